package image_test

import (
	"archive/tar"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/daytwo-dev/daytwo/internal/image"
)

const testVersion = "v0.0.0-imagetest"

var created = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// makeBuild builds the binary with `make build` (CGO_ENABLED=0, -trimpath, the ldflags)
// into a directory of its own.
func makeBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "daytwo")
	cmd := exec.Command("make", "-s", "-C", "../..", "build", "BIN="+bin, "VERSION="+testVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	return bin
}

// caBundle writes a PEM bundle of two certificates, standing in for Debian's.
func caBundle(t *testing.T) string {
	t.Helper()
	var bundle []byte
	for i := range 2 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "imagetest root"},
			NotBefore: created, NotAfter: created.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	file := filepath.Join(t.TempDir(), "ca-certificates.crt")
	if err := os.WriteFile(file, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sha(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return string(sum[:])
}

// TestImage builds the binary twice and the image from each, then opens the image.
func TestImage(t *testing.T) {
	binA, binB := makeBuild(t, t.TempDir()), makeBuild(t, t.TempDir())
	if sha(t, binA) != sha(t, binB) {
		t.Fatal("make build twice gave two different binaries")
	}
	ca := caBundle(t)
	opts := image.Options{Binary: binA, CACerts: ca, Version: testVersion, Revision: strings.Repeat("c", 40), Created: created}
	img, err := image.Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	optsB := opts
	optsB.Binary = binB
	imgB, err := image.Build(optsB)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag("ghcr.io/daytwo-dev/daytwo:v0.1.0", name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reproducible", func(t *testing.T) {
		if a, b := digest(t, img), digest(t, imgB); a != b {
			t.Fatalf("the same commit gave two digests: %s and %s", a, b)
		}
		// Both outputs, written twice, are byte for byte the same.
		dirA, dirB := t.TempDir(), t.TempDir()
		for _, d := range []struct {
			dir string
			img v1.Image
		}{{dirA, img}, {dirB, imgB}} {
			if err := image.WriteLayout(filepath.Join(d.dir, "oci"), d.img, ref); err != nil {
				t.Fatal(err)
			}
			if err := image.WriteTarball(filepath.Join(d.dir, "daytwo.tar"), d.img, ref); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"daytwo.tar", "oci/index.json", "oci/oci-layout"} {
			if sha(t, filepath.Join(dirA, f)) != sha(t, filepath.Join(dirB, f)) {
				t.Errorf("%s differs between two builds", f)
			}
		}
		// The time is in the image: another one gives another image (compared by config,
		// which names the uncompressed layer, to spare compressing it again).
		later := opts
		later.Created = created.Add(time.Second)
		other, err := image.Build(later)
		if err != nil {
			t.Fatal(err)
		}
		a, errA := img.ConfigName()
		b, errB := other.ConfigName()
		if errA != nil || errB != nil || a == b {
			t.Errorf("another SOURCE_DATE_EPOCH gave the same config %s (%v %v)", a, errA, errB)
		}
	})

	t.Run("config", func(t *testing.T) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cf.Config
		if c.User != "65532:65532" || !reflect.DeepEqual(c.Entrypoint, []string{"/usr/local/bin/daytwo"}) || !reflect.DeepEqual(c.Cmd, []string{"serve"}) {
			t.Errorf("user %q entrypoint %q cmd %q", c.User, c.Entrypoint, c.Cmd)
		}
		want := map[string]string{
			"org.opencontainers.image.source":   "https://github.com/daytwo-dev/daytwo",
			"org.opencontainers.image.revision": strings.Repeat("c", 40),
			"org.opencontainers.image.version":  testVersion,
		}
		if !reflect.DeepEqual(c.Labels, want) {
			t.Errorf("labels %v, want %v", c.Labels, want)
		}
		if cf.OS != "linux" || cf.Architecture != runtime.GOARCH || !cf.Created.Time.Equal(created) {
			t.Errorf("os %s arch %s created %s", cf.OS, cf.Architecture, cf.Created.Time)
		}
		if len(cf.History) != 1 || !cf.History[0].Created.Time.Equal(created) {
			t.Errorf("history %+v", cf.History)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
			t.Errorf("media types: manifest %s config %s layers %+v", m.MediaType, m.Config.MediaType, m.Layers)
		}
	})

	root := t.TempDir()
	t.Run("layer", func(t *testing.T) {
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("layers %d %v", len(layers), err)
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var got []string
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s %s type=%c owner=%d:%d names=%q:%q %s", h.Name, fs.FileMode(h.Mode), h.Typeflag,
				h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.UTC().Format(time.RFC3339)))
			// Extract, as a container runtime would.
			dst := filepath.Join(root, filepath.FromSlash(h.Name))
			if h.Typeflag == tar.TypeDir {
				if err := os.MkdirAll(dst, 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, fs.FileMode(h.Mode)); err != nil {
				t.Fatal(err)
			}
		}
		dir, file := ` -rwxr-xr-x type=5 owner=0:0 names="":"" `+created.Format(time.RFC3339), ` type=0 owner=0:0 names="":"" `+created.Format(time.RFC3339)
		want := []string{
			"etc/" + dir,
			"etc/group -rw-r--r--" + file,
			"etc/passwd -rw-r--r--" + file,
			"etc/ssl/" + dir,
			"etc/ssl/certs/" + dir,
			"etc/ssl/certs/ca-certificates.crt -rw-r--r--" + file,
			"usr/" + dir,
			"usr/local/" + dir,
			"usr/local/bin/" + dir,
			"usr/local/bin/daytwo -rwxr-xr-x" + file,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("layer entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for file, want := range map[string]string{"etc/ssl/certs/ca-certificates.crt": sha(t, ca), "usr/local/bin/daytwo": sha(t, binA)} {
			if sha(t, filepath.Join(root, file)) != want {
				t.Errorf("%s is not the file given", file)
			}
		}
		passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
		group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
		if !strings.Contains(string(passwd), "\nnonroot:x:65532:65532:") || !strings.Contains(string(group), "\nnonroot:x:65532:") {
			t.Errorf("passwd:\n%s\ngroup:\n%s", passwd, group)
		}
	})

	t.Run("runs", func(t *testing.T) {
		bin := filepath.Join(root, "usr/local/bin/daytwo")
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "daytwo "+testVersion {
			t.Errorf("%s version: %q %v", bin, out, err)
		}
	})

	t.Run("layout and tarball", func(t *testing.T) {
		dir := t.TempDir()
		layoutDir, tarFile := filepath.Join(dir, "oci"), filepath.Join(dir, "daytwo.tar")
		// A stale layout is replaced, not added to.
		if err := image.WriteLayout(layoutDir, imgB, ref); err != nil {
			t.Fatal(err)
		}
		if err := image.WriteLayout(layoutDir, img, ref); err != nil {
			t.Fatal(err)
		}
		if err := image.WriteTarball(tarFile, img, ref); err != nil {
			t.Fatal(err)
		}
		back, refName, err := image.LayoutImage(layoutDir)
		if err != nil {
			t.Fatal(err)
		}
		if refName != "ghcr.io/daytwo-dev/daytwo:v0.1.0" || digest(t, back) != digest(t, img) {
			t.Errorf("layout: ref.name %q digest %s", refName, digest(t, back))
		}
		// docker load makes its own manifest: the config and the layer are what must match.
		loaded, err := tarball.ImageFromPath(tarFile, &ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, get := range []func(v1.Image) (v1.Hash, error){configName, layerDigest} {
			a, errA := get(loaded)
			b, errB := get(img)
			if errA != nil || errB != nil || a != b {
				t.Errorf("tarball: %s, want %s (%v %v)", a, b, errA, errB)
			}
		}
		var manifest []struct{ RepoTags []string }
		if err := json.Unmarshal(tarMember(t, tarFile, "manifest.json"), &manifest); err != nil || len(manifest) != 1 || !reflect.DeepEqual(manifest[0].RepoTags, []string{"ghcr.io/daytwo-dev/daytwo:v0.1.0"}) {
			t.Errorf("docker load's manifest.json: %+v %v", manifest, err)
		}
		size, err := image.CompressedSize(img)
		if err != nil || size <= 0 {
			t.Fatalf("size %d %v", size, err)
		}
		m, _ := img.Manifest()
		if size != m.Config.Size+m.Layers[0].Size {
			t.Errorf("compressed size %d, want config %d + layer %d", size, m.Config.Size, m.Layers[0].Size)
		}
	})
}

func configName(img v1.Image) (v1.Hash, error) { return img.ConfigName() }

func layerDigest(img v1.Image) (v1.Hash, error) {
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		return v1.Hash{}, fmt.Errorf("%d layers: %v", len(ls), err)
	}
	return ls[0].Digest()
}

func tarMember(t *testing.T, file, member string) []byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s: %v", file, member, err)
		}
		if h.Name == member {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	ca := caBundle(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "daytwo")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho not a binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("no certificates here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dynamic, static := dynamicExecutable(t), staticProgram(t)
	for _, c := range []struct {
		name string
		opts image.Options
		want string
	}{
		{"missing binary", image.Options{Binary: filepath.Join(dir, "none"), CACerts: ca, Version: "v1", Revision: "r"}, "make build writes it"},
		{"not ELF", image.Options{Binary: script, CACerts: ca, Version: "v1", Revision: "r"}, "not a Linux executable"},
		{"dynamic", image.Options{Binary: dynamic, CACerts: ca, Version: "v1", Revision: "r"}, "CGO_ENABLED=0"},
		{"CA not PEM", image.Options{Binary: static, CACerts: notPEM, Version: "v1", Revision: "r"}, "no PEM certificate"},
		{"CA missing", image.Options{Binary: static, CACerts: filepath.Join(dir, "none.crt"), Version: "v1", Revision: "r"}, "none.crt"},
		{"no version", image.Options{Binary: static, CACerts: ca, Revision: "r"}, "version"},
	} {
		if _, err := image.Build(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// dynamicExecutable finds a dynamically linked program of the host (Debian's are).
func dynamicExecutable(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/sh", "/usr/bin/env", "/bin/ls"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				f.Close()
				return p
			}
		}
		f.Close()
	}
	t.Fatal("no dynamically linked program found on this host to check the refusal with")
	return ""
}

// staticProgram builds a tiny static program, for cases that need a valid binary.
func staticProgram(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "static")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestReadRef(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		f, err := os.CreateTemp(dir, "kustomization-*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(body); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return f.Name()
	}
	head := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [deployment.yaml]\n"
	for _, c := range []struct {
		body, want, err string
	}{
		{head + "images:\n  - name: ghcr.io/acme/other\n    newTag: v9\n  - name: ghcr.io/daytwo-dev/daytwo\n    newTag: v0.1.0\n", "ghcr.io/daytwo-dev/daytwo:v0.1.0", ""},
		{head + "images:\n  - name: ghcr.io/daytwo-dev/daytwo\n    newName: registry.example.com/ops/daytwo\n    newTag: \"1.2\"\n", "registry.example.com/ops/daytwo:1.2", ""},
		{head + "images:\n  - name: ghcr.io/acme/other\n    newTag: v9\n", "", "no images entry named ghcr.io/daytwo-dev/daytwo"},
		{head + "images:\n  - name: ghcr.io/daytwo-dev/daytwo\n    digest: sha256:" + strings.Repeat("a", 64) + "\n", "", "set newTag instead"},
		{head + "images:\n  - name: ghcr.io/daytwo-dev/daytwo\n    newName: ghcr.io/acme/daytwo\n", "", "has no newTag"},
		{head + "images:\n  - name: ghcr.io/daytwo-dev/daytwo\n    newTag: \"bad tag!\"\n", "", "is not an image reference"},
		{head + "imagez: []\n", "", "unknown field"},
		{"images: [\n", "", "invalid Kustomization"},
	} {
		file := write(c.body)
		ref, err := image.ReadRef(file)
		switch {
		case c.err == "" && (err != nil || ref.String() != c.want):
			t.Errorf("%q: %v %v, want %s", c.body, ref, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), file)):
			t.Errorf("%q: %v, want an error naming the file and saying %q", c.body, err, c.err)
		}
	}
	if _, err := image.ReadRef(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "the tag comes from") {
		t.Errorf("missing file: %v", err)
	}
}
