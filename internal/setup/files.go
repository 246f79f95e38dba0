package setup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The files written into --out. github.env and private-key.pem are what the kustomize
// secretGenerator in manifests/ reads from manifests/secrets; config.yml is for
// `daytwo serve --config`; secret.yaml is the same Secret for those who create it apart
// from Argo CD's sync.
const (
	KeyFile    = "private-key.pem"
	EnvFile    = "github.env"
	ConfigFile = "config.yml"
	SecretFile = "secret.yaml"
)

// FileNames lists the files setup writes, in the order it writes them.
var FileNames = []string{KeyFile, EnvFile, ConfigFile, SecretFile}

// SecretName and SecretNamespace name the Kubernetes Secret the Deployment reads.
const (
	SecretName      = "daytwo-github"
	SecretNamespace = "daytwo"
)

// Files renders every file's content for app on gh.
func Files(gh GitHub, app *App) (map[string][]byte, error) {
	pem := app.PEM
	if !strings.HasSuffix(pem, "\n") {
		pem += "\n"
	}
	env := envValues(gh, app)

	var envFile strings.Builder
	envFile.WriteString("# The GitHub App " + app.Slug + ", written by `daytwo setup`. Keep it out of Git.\n")
	for _, kv := range env {
		envFile.WriteString(kv[0] + "=" + kv[1] + "\n")
	}

	config, err := configYAML(gh, app)
	if err != nil {
		return nil, err
	}
	secret, err := secretYAML(env, pem)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{KeyFile: []byte(pem), EnvFile: []byte(envFile.String()), ConfigFile: config, SecretFile: secret}, nil
}

// envValues are the variables go-githubapp's configuration reads, as ordered pairs.
func envValues(gh GitHub, app *App) [][2]string {
	env := [][2]string{
		{"GITHUB_APP_INTEGRATION_ID", strconv.FormatInt(app.ID, 10)},
		{"GITHUB_APP_WEBHOOK_SECRET", app.WebhookSecret},
	}
	if gh.Enterprise() {
		env = append(env, [2]string{"GITHUB_WEB_URL", gh.WebURL}, [2]string{"GITHUB_V3_API_URL", gh.V3APIURL}, [2]string{"GITHUB_V4_API_URL", gh.V4APIURL})
	}
	return env
}

// configYAML is a server config naming the key file beside it (internal/config resolves
// the file's relative paths against its directory).
func configYAML(gh GitHub, app *App) ([]byte, error) {
	type appBlock struct {
		IntegrationID int64  `yaml:"integration_id"`
		WebhookSecret string `yaml:"webhook_secret"`
	}
	type githubBlock struct {
		WebURL   string   `yaml:"web_url,omitempty"`
		V3APIURL string   `yaml:"v3_api_url,omitempty"`
		V4APIURL string   `yaml:"v4_api_url,omitempty"`
		App      appBlock `yaml:"app"`
	}
	doc := struct {
		GitHub         githubBlock `yaml:"github"`
		PrivateKeyFile string      `yaml:"private_key_file"`
	}{GitHub: githubBlock{App: appBlock{IntegrationID: app.ID, WebhookSecret: app.WebhookSecret}}, PrivateKeyFile: KeyFile}
	if gh.Enterprise() {
		doc.GitHub.WebURL, doc.GitHub.V3APIURL, doc.GitHub.V4APIURL = gh.WebURL, gh.V3APIURL, gh.V4APIURL
	}
	var n yaml.Node
	if err := n.Encode(doc); err != nil {
		return nil, err
	}
	n.HeadComment = "Server config of the GitHub App " + app.Slug + ", written by `daytwo setup`: daytwo serve --config " + ConfigFile +
		"\nThe environment overrides it (README.md, \"Running the server\"). Keep it out of Git."
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "private_key_file" {
			n.Content[i+1].LineComment = "relative to this file's directory"
		}
	}
	return marshal(&n)
}

// marshal writes YAML indented by two spaces, as the repository's YAML is.
func marshal(n *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// secretYAML is the Kubernetes Secret the secretGenerator would make from the same values.
func secretYAML(env [][2]string, pem string) ([]byte, error) {
	data := map[string]string{KeyFile: pem}
	for _, kv := range env {
		data[kv[0]] = kv[1]
	}
	doc := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       "Opaque",
		"metadata":   map[string]any{"name": SecretName, "namespace": SecretNamespace},
		"stringData": data,
	}
	var n yaml.Node
	if err := n.Encode(doc); err != nil {
		return nil, err
	}
	n.HeadComment = "The Secret " + SecretName + " for daytwo's Deployment, written by `daytwo setup`.\n" +
		"kubectl apply -f " + SecretFile + " before Argo CD syncs manifests/base. Keep it out of Git."
	return marshal(&n)
}

// ExistingFiles lists the files of dir that setup would overwrite.
func ExistingFiles(dir string) ([]string, error) {
	var found []string
	for _, name := range FileNames {
		_, err := os.Lstat(filepath.Join(dir, name))
		switch {
		case err == nil:
			found = append(found, name)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	return found, nil
}

// refuseExisting is the message for files that are in the way.
func refuseExisting(dir string, names []string) error {
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(dir, n)
	}
	verb := "exists"
	if len(paths) > 1 {
		verb = "exist"
	}
	return inputErrorf("%s already %s: move them away or pass --force to replace them", strings.Join(paths, ", "), verb)
}

// checkOut fails fast on an --out that cannot take the files: not a directory, not
// writable, or holding them already (without force).
func checkOut(dir string, force bool) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // created at write time
	case err != nil:
		return inputErrorf("--out %s: %v", dir, err)
	case !st.IsDir():
		return inputErrorf("--out %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".daytwo-setup-check-*")
	if err != nil {
		return inputErrorf("--out %s is not writable: %v", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	if force {
		return nil
	}
	existing, err := ExistingFiles(dir)
	if err != nil {
		return inputErrorf("--out %s: %v", dir, err)
	}
	if len(existing) > 0 {
		return refuseExisting(dir, existing)
	}
	return nil
}

// WriteFiles writes every file or none, each 0600: all are written to temporary files
// first, then moved in place. Without force a file already there stops the whole write
// (the move is a hard link, which never replaces a file), and what was moved is removed.
func WriteFiles(dir string, files map[string][]byte, force bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if !force {
		var existing []string
		for _, n := range names {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				existing = append(existing, n)
			}
		}
		if len(existing) > 0 {
			return refuseExisting(dir, existing)
		}
	}

	temps := map[string]string{}
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}()
	for _, n := range names {
		f, err := os.CreateTemp(dir, "."+n+".tmp-*")
		if err != nil {
			return err
		}
		temps[n] = f.Name()
		_, err = f.Write(files[n])
		if err == nil {
			err = f.Chmod(0o600)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir, n), err)
		}
	}

	var placed []string
	for _, n := range names {
		final := filepath.Join(dir, n)
		var err error
		if force {
			err = os.Rename(temps[n], final)
		} else {
			err = os.Link(temps[n], final)
		}
		if err != nil {
			if !force {
				for _, p := range placed {
					os.Remove(p)
				}
			}
			if errors.Is(err, fs.ErrExist) {
				return refuseExisting(dir, []string{n})
			}
			return fmt.Errorf("write %s: %w", final, err)
		}
		placed = append(placed, final)
	}
	return nil
}
