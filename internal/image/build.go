package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options say what goes into the image.
type Options struct {
	Binary   string // the static daytwo binary (make build)
	CACerts  string // the CA bundle, Debian's /etc/ssl/certs/ca-certificates.crt
	Version  string // the org.opencontainers.image.version label: what `daytwo version` prints
	Revision string // the org.opencontainers.image.revision label: the git commit
	// Created is every time in the image (file times, config, history): SOURCE_DATE_EPOCH,
	// the commit's time, so the same commit gives the same image.
	Created time.Time
}

// Build assembles the image: one layer with Files, and the config. It refuses a binary
// that is not a static Linux executable and a CA file without certificates.
func Build(o Options) (v1.Image, error) {
	if strings.TrimSpace(o.Version) == "" || strings.TrimSpace(o.Revision) == "" {
		return nil, errors.New("image: the version and the revision are required (make image passes git describe and the commit)")
	}
	arch, err := staticLinuxArch(o.Binary)
	if err != nil {
		return nil, err
	}
	content := map[string][]byte{}
	for _, f := range Files {
		var data []byte
		switch f.Source {
		case SourceBinary:
			data, err = os.ReadFile(o.Binary)
		case SourceCACerts:
			if data, err = os.ReadFile(o.CACerts); err == nil && !x509.NewCertPool().AppendCertsFromPEM(data) {
				err = fmt.Errorf("%s holds no PEM certificate (install Debian's ca-certificates package: make image does)", o.CACerts)
			}
		default:
			data, err = repoFile(f.Source)
		}
		if err != nil {
			return nil, fmt.Errorf("image: %s: %w", f.Path, err)
		}
		content[f.Path] = data
	}
	created := o.Created.UTC().Truncate(time.Second)
	fsTar, err := rootfs(content, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(fsTar)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression),
		// Level 9 takes three times as long for 0.4% less; compressed once, not again for
		// the digest, the layout and the tarball.
		tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("image: layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "make image (internal/image)",
		Comment: "daytwo " + o.Version + ", CA certificates, /etc/passwd and /etc/group",
	}})
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: Entrypoint,
		Cmd:        Cmd,
		Env:        []string{"PATH=" + Path},
		Labels:     map[string]string{LabelSource: SourceURL, LabelRevision: o.Revision, LabelVersion: o.Version},
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs writes the layer's tar: every file and its parent directories, sorted by name,
// owned by root with no user or group names, all at one time.
func rootfs(content map[string][]byte, mtime time.Time) ([]byte, error) {
	headers := map[string]*tar.Header{}
	for _, f := range Files {
		name := strings.TrimPrefix(f.Path, "/")
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			headers[dir+"/"] = &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755}
		}
		headers[name] = &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(f.Mode.Perm()), Size: int64(len(content[f.Path]))}
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := headers[n]
		h.ModTime, h.Format = mtime, tar.FormatUSTAR
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: %s: %w", n, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(content["/"+n]); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// staticLinuxArch returns the OCI architecture of a static Linux executable.
func staticLinuxArch(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("image: the binary %s does not exist (make build writes it)", file)
		}
		return "", fmt.Errorf("image: %s is not a Linux executable (%v): build it with GOOS=linux", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("image: %s is dynamically linked and would not run on an image without a base: build it with CGO_ENABLED=0 (make build does)", file)
		}
	}
	arch := map[elf.Machine]string{
		elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm",
		elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_RISCV: "riscv64", elf.EM_LOONGARCH: "loong64",
	}[f.Machine]
	if f.Machine == elf.EM_PPC64 && f.ByteOrder == binary.BigEndian {
		arch = "ppc64"
	}
	if arch == "" || (f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN) {
		return "", fmt.Errorf("image: %s is not an executable for a Linux architecture Go builds (%s, %s)", file, f.Type, f.Machine)
	}
	return arch, nil
}
