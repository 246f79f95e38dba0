package setup_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/setup"
)

func testApp(t *testing.T) *setup.App {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return &setup.App{ID: 31337, Slug: "daytwo-acme", Name: "daytwo acme", Owner: "acme", HTMLURL: "https://github.com/apps/daytwo-acme",
		WebhookSecret: "e340154128314309424b7c8e90325147d99fdafa", PEM: string(pemKey)}
}

// The files load as they are meant to: config.yml as the server's config from any
// working directory, github.env and private-key.pem through a kustomize secretGenerator
// (as manifests/ uses them) into the same Secret that secret.yaml holds.
func TestFilesAreReadByTheServerAndKustomize(t *testing.T) {
	app := testApp(t)
	for _, ghURL := range []string{"", "https://ghe.example.com"} {
		gh, err := setup.GitHubAt(ghURL)
		if err != nil {
			t.Fatal(err)
		}
		files, err := setup.Files(gh, app)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "secrets")
		if err := setup.WriteFiles(dir, files, false); err != nil {
			t.Fatal(err)
		}
		for _, name := range setup.FileNames {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v, mode %v", name, err, st.Mode())
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != len(setup.FileNames) {
			t.Fatalf("%d entries in %s, want only the %d files", len(entries), dir, len(setup.FileNames))
		}

		t.Chdir(t.TempDir())
		cfg, err := config.Load(filepath.Join(dir, setup.ConfigFile), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("config.yml does not load: %v\n%s", err, files[setup.ConfigFile])
		}
		if cfg.GitHub.App.IntegrationID != app.ID || cfg.GitHub.App.WebhookSecret != app.WebhookSecret || cfg.GitHub.App.PrivateKey != app.PEM ||
			cfg.GitHub.V3APIURL != gh.V3APIURL || cfg.GitHub.V4APIURL != gh.V4APIURL || cfg.GitHub.WebURL != gh.WebURL {
			t.Fatalf("config from config.yml: %+v\n%s", cfg.GitHub, files[setup.ConfigFile])
		}

		// The secretGenerator of manifests/kustomization.yaml, on a copy.
		mem := filesys.MakeFsInMemory()
		_ = mem.WriteFile("/k/secrets/"+setup.EnvFile, files[setup.EnvFile])
		_ = mem.WriteFile("/k/secrets/"+setup.KeyFile, files[setup.KeyFile])
		_ = mem.WriteFile("/k/kustomization.yaml", []byte(`namespace: daytwo
secretGenerator:
  - name: daytwo-github
    envs: [secrets/github.env]
    files: [private-key.pem=secrets/private-key.pem]
`))
		rm, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/k")
		if err != nil {
			t.Fatalf("kustomize: %v", err)
		}
		var generated corev1.Secret
		out, _ := rm.AsYaml()
		if err := yaml.UnmarshalStrict(out, &generated); err != nil {
			t.Fatal(err)
		}
		var written corev1.Secret
		if err := yaml.UnmarshalStrict(files[setup.SecretFile], &written); err != nil {
			t.Fatalf("secret.yaml is not a Secret: %v\n%s", err, files[setup.SecretFile])
		}
		if written.Name != setup.SecretName || written.Namespace != "daytwo" || written.Kind != "Secret" || written.APIVersion != "v1" {
			t.Fatalf("secret.yaml metadata: %+v", written.ObjectMeta)
		}
		if !strings.HasPrefix(generated.Name, setup.SecretName+"-") || len(generated.Data) != len(written.StringData) {
			t.Fatalf("generated %s with %d keys, secret.yaml has %d", generated.Name, len(generated.Data), len(written.StringData))
		}
		for k, v := range written.StringData {
			if string(generated.Data[k]) != v {
				t.Errorf("key %s: secretGenerator %q, secret.yaml %q", k, generated.Data[k], v)
			}
		}
		keys := make([]string, 0, len(written.StringData))
		for k := range written.StringData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := "GITHUB_APP_INTEGRATION_ID GITHUB_APP_WEBHOOK_SECRET private-key.pem"
		if gh.Enterprise() {
			want = "GITHUB_APP_INTEGRATION_ID GITHUB_APP_WEBHOOK_SECRET GITHUB_V3_API_URL GITHUB_V4_API_URL GITHUB_WEB_URL private-key.pem"
		}
		if strings.Join(keys, " ") != want {
			t.Errorf("keys %v, want %s", keys, want)
		}
		if written.StringData["GITHUB_APP_INTEGRATION_ID"] != "31337" || written.StringData["private-key.pem"] != app.PEM {
			t.Errorf("secret.yaml values: %v", written.StringData["GITHUB_APP_INTEGRATION_ID"])
		}
	}
}

func TestWriteFilesIsAllOrNothing(t *testing.T) {
	app := testApp(t)
	gh, _ := setup.GitHubAt("")
	files, err := setup.Files(gh, app)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := []byte("GITHUB_APP_INTEGRATION_ID=1\n")
	if err := os.WriteFile(filepath.Join(dir, setup.EnvFile), old, 0o644); err != nil {
		t.Fatal(err)
	}
	err = setup.WriteFiles(dir, files, false)
	if !setup.IsInputError(err) || !strings.Contains(err.Error(), filepath.Join(dir, setup.EnvFile)+" already exists") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("a refused write left %d entries", len(entries))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, setup.EnvFile)); string(b) != string(old) {
		t.Fatal("the existing file was changed")
	}

	if err := setup.WriteFiles(dir, files, true); err != nil {
		t.Fatal(err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != len(setup.FileNames) {
		t.Fatalf("%d entries after --force", len(entries))
	}
	for name, body := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		st, _ := os.Stat(filepath.Join(dir, name))
		if err != nil || string(b) != string(body) || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s after --force: %v, mode %v", name, err, st.Mode())
		}
	}

	// A directory that cannot take the files gets none of them.
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 { // root writes anywhere
		if err := setup.WriteFiles(ro, files, false); err == nil || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("read-only dir: err = %v", err)
		}
	}
}
