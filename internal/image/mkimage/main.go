// Command mkimage writes daytwo's container image without a Docker daemon (make image), or
// reports the sizes of the binary and the image against their limits (-size, for make size).
// It is run with go run and not linked into daytwo.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/daytwo-dev/daytwo/internal/image"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	binary := fs.String("binary", "bin/daytwo", "the static daytwo binary")
	caCerts := fs.String("ca-certs", image.CACertsPath, "the CA bundle to copy (Debian's ca-certificates)")
	kustomization := fs.String("kustomization", "manifests/base/kustomization.yaml", "the kustomization whose images: entry "+image.ImageName+" gives the tag")
	version := fs.String("version", "", "the version (git describe), as in the binary")
	revision := fs.String("revision", "", "the git commit")
	epoch := fs.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "seconds since 1970 for every time in the image: the commit's time")
	out := fs.String("out", "bin/image", "directory of the outputs: oci/ (OCI layout) and daytwo.tar (docker load)")
	size := fs.Bool("size", false, "report the binary's size and the image's compressed size instead, failing over the limits")
	maxBinary := fs.Float64("max-binary-mb", 90, "with -size: the binary's limit, MB (10^6 bytes)")
	maxImage := fs.Float64("max-image-mb", 35, "with -size: the compressed image's limit, MB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	layoutDir, tarFile := filepath.Join(*out, "oci"), filepath.Join(*out, "daytwo.tar")
	if *size {
		return report(*binary, layoutDir, *maxBinary, *maxImage)
	}
	secs, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil || secs < 0 {
		return fmt.Errorf("-source-date-epoch %q is not a number of seconds (make image passes the commit's time, git log -1 --format=%%ct)", *epoch)
	}
	ref, err := image.ReadRef(*kustomization)
	if err != nil {
		return err
	}
	img, err := image.Build(image.Options{Binary: *binary, CACerts: *caCerts, Version: *version, Revision: *revision, Created: time.Unix(secs, 0)})
	if err != nil {
		return err
	}
	if err := image.WriteLayout(layoutDir, img, ref); err != nil {
		return err
	}
	if err := image.WriteTarball(tarFile, img, ref); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("reference %s\ndigest    %s\nwritten   %s (OCI layout), %s (docker load -i)\n", ref, digest, layoutDir, tarFile)
	return nil
}

// report prints both sizes and fails when one is over its limit.
func report(binary, layoutDir string, maxBinary, maxImage float64) error {
	st, err := os.Stat(binary)
	if err != nil {
		return fmt.Errorf("%w (make build writes it)", err)
	}
	img, ref, err := image.LayoutImage(layoutDir)
	if err != nil {
		return err
	}
	compressed, err := image.CompressedSize(img)
	if err != nil {
		return err
	}
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	fmt.Printf("binary  %6.1f MB  (limit %g MB)  %s\n", mb(st.Size()), maxBinary, binary)
	fmt.Printf("image   %6.1f MB  compressed layers + config (limit %g MB)  %s\n", mb(compressed), maxImage, ref)
	var over []string
	if mb(st.Size()) > maxBinary {
		over = append(over, fmt.Sprintf("the binary is %.1f MB, over %g MB", mb(st.Size()), maxBinary))
	}
	if mb(compressed) > maxImage {
		over = append(over, fmt.Sprintf("the image is %.1f MB compressed, over %g MB", mb(compressed), maxImage))
	}
	if len(over) > 0 {
		return fmt.Errorf("too big: %s", strings.Join(over, "; "))
	}
	return nil
}
