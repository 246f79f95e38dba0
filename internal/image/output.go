package image

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/kustomize/api/types"
)

// ImageName is the images: entry of manifests/base/kustomization.yaml that names the tag.
const ImageName = "ghcr.io/daytwo-dev/daytwo"

// ReadRef reads the image reference from the kustomization's images: entry named
// ImageName: newName (or the name) and newTag. The deployment and the image built agree.
func ReadRef(kustomization string) (name.Tag, error) {
	data, err := os.ReadFile(kustomization)
	if err != nil {
		return name.Tag{}, fmt.Errorf("image: the tag comes from %s: %w", kustomization, err)
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return name.Tag{}, fmt.Errorf("image: %s: %w", kustomization, err)
	}
	for _, im := range k.Images {
		if im.Name != ImageName {
			continue
		}
		if im.Digest != "" {
			return name.Tag{}, fmt.Errorf("image: %s pins %s to a digest; the image built needs a tag: set newTag instead", kustomization, ImageName)
		}
		if im.NewTag == "" {
			return name.Tag{}, fmt.Errorf("image: %s: the images entry %s has no newTag: set it to the tag to build (e.g. newTag: v0.1.0)", kustomization, ImageName)
		}
		repo := im.Name
		if im.NewName != "" {
			repo = im.NewName
		}
		ref := repo + ":" + im.NewTag + im.TagSuffix
		tag, err := name.NewTag(ref, name.StrictValidation)
		if err != nil {
			return name.Tag{}, fmt.Errorf("image: %s: %q is not an image reference: %w", kustomization, ref, err)
		}
		return tag, nil
	}
	return name.Tag{}, fmt.Errorf("image: %s has no images entry named %s: add one with the tag to build (images: [{name: %s, newTag: v0.1.0}])", kustomization, ImageName, ImageName)
}

// WriteLayout writes img as an OCI image layout in dir, replacing what was there; its
// index names the image with the full reference (org.opencontainers.image.ref.name).
func WriteLayout(dir string, img v1.Image, ref name.Tag) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: %s: %w", dir, err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{RefName: ref.String()})); err != nil {
		return fmt.Errorf("image: %s: %w", dir, err)
	}
	return nil
}

// WriteTarball writes img tagged ref as a tarball `docker load` reads.
func WriteTarball(file string, img v1.Image, ref name.Tag) error {
	if err := tarball.WriteToFile(file, ref, img); err != nil {
		return fmt.Errorf("image: %s: %w", file, err)
	}
	return nil
}

// LayoutImage reads back the one image of an OCI layout written by WriteLayout, with the
// reference its index gives it.
func LayoutImage(dir string) (v1.Image, string, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("image: %s is not an OCI layout (make image writes it): %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("image: %s: %w", dir, err)
	}
	if len(m.Manifests) != 1 {
		return nil, "", fmt.Errorf("image: %s holds %d images, want 1", dir, len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, "", fmt.Errorf("image: %s: %w", dir, err)
	}
	return img, m.Manifests[0].Annotations[RefName], nil
}

// CompressedSize is what a pull downloads: the compressed layers and the config.
func CompressedSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	if m == nil {
		return 0, errors.New("image: no manifest")
	}
	total := m.Config.Size
	for _, l := range m.Layers {
		total += l.Size
	}
	return total, nil
}
