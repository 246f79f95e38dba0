// Package image builds daytwo's container image without a Docker daemon: one layer holding
// the static binary, Debian's CA bundle and a minimal /etc/passwd and /etc/group, on no
// base image, written reproducibly (fixed times, owners and modes, sorted entries) as an
// OCI layout and a `docker load` tarball. The repository's Dockerfile builds the same image
// with Docker; this file is what both are checked against.
package image

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

// File is one regular file of the image; its parent directories are root's, mode 0755.
type File struct {
	Path string      // absolute path in the image
	Mode fs.FileMode // permission bits; owner and group are root (0:0)
	// Source says where the content comes from: a path in this repository (Dockerfile COPY
	// and the builder read the same file), or SourceBinary / SourceCACerts.
	Source string
}

// Sources of the files that are not in the repository.
const (
	SourceBinary  = "the static daytwo binary (make build)"
	SourceCACerts = "Debian's ca-certificates package"
)

// The image's paths and settings.
const (
	BinaryPath  = "/usr/local/bin/daytwo"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// User is nonroot in etc/passwd: runAsNonRoot in Kubernetes needs a numeric user.
	User = "65532:65532"
	// Path is the PATH BuildKit gives an image that sets none, so both builds agree.
	Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// SourceURL is the repository, for the org.opencontainers.image.source label.
	SourceURL = "https://github.com/daytwo-dev/daytwo"
)

// Files lists every regular file of the image, sorted by path.
var Files = []File{
	{Path: "/etc/group", Mode: 0o644, Source: "internal/image/etc/group"},
	{Path: "/etc/passwd", Mode: 0o644, Source: "internal/image/etc/passwd"},
	{Path: CACertsPath, Mode: 0o644, Source: SourceCACerts},
	{Path: BinaryPath, Mode: 0o755, Source: SourceBinary},
}

// Entrypoint and Cmd: `docker run IMAGE` serves; `docker run IMAGE validate …` runs another
// subcommand.
var (
	Entrypoint = []string{BinaryPath}
	Cmd        = []string{"serve"}
)

// OCI annotation keys used as labels and in the layout's index.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelRevision = "org.opencontainers.image.revision"
	LabelVersion  = "org.opencontainers.image.version"
	RefName       = "org.opencontainers.image.ref.name"
)

// LabelKeys are the labels every build sets, sorted. There is no
// org.opencontainers.image.licenses: the repository names no license yet.
var LabelKeys = []string{LabelRevision, LabelSource, LabelVersion}

//go:embed etc/passwd etc/group
var repoFiles embed.FS

// repoFile returns the content of a file whose Source is in this directory.
func repoFile(source string) ([]byte, error) {
	rel, ok := strings.CutPrefix(source, "internal/image/")
	if !ok {
		return nil, fmt.Errorf("image: %s is not a file of internal/image", source)
	}
	return repoFiles.ReadFile(rel)
}
