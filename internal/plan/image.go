package plan

import (
	"context"
	"fmt"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// buildSetImage upserts the kustomization images entry of the image a container runs.
// The image is found from, in order: the container the command names, the service's
// configured image, the service's configured container, the workload's only container.
func buildSetImage(_ context.Context, j *job) (*edit, error) {
	ref := j.cmd.Image
	if ref.Tag == "" && ref.Digest == "" && ref.Name == "" {
		return nil, Errorf(Invalid, "set-image needs a tag, an image:tag or an image@digest")
	}
	w, err := j.workload()
	if err != nil {
		return nil, err
	}
	all := containersOf(w)
	find := func(name string) (*container, bool) {
		for i := range all {
			if all[i].Name == name {
				return &all[i], true
			}
		}
		return nil, false
	}
	var c *container // the container whose image changes; nil: every user of svc.Image
	var key string   // images[].name in the kustomization
	switch {
	case ref.Container != "":
		var ok bool
		if c, ok = find(ref.Container); !ok {
			return nil, Errorf(Invalid, "%s in %s has no container %q (containers: %s)", w.ID(), j.cmd.Env, ref.Container, listOrNone(containerNames(all)))
		}
	case j.svc.Image != "":
		key = j.svc.Image
	case j.svc.Container != "":
		var ok bool
		if c, ok = find(j.svc.Container); !ok {
			return nil, Errorf(Invalid, "%s in %s has no container %q, the one %s configures (containers: %s)",
				w.ID(), j.cmd.Env, j.svc.Container, repoconfig.Path, listOrNone(containerNames(all)))
		}
	default:
		var main []container
		for _, x := range all {
			if !x.Init {
				main = append(main, x)
			}
		}
		if len(main) != 1 {
			return nil, Errorf(Invalid, "%s in %s has %s (%s); name one: /set-image <container>=<tag>",
				w.ID(), j.cmd.Env, plural(len(main), "container", "containers"), listOrNone(containerNames(main)))
		}
		c = &main[0]
	}
	if c != nil {
		key = j.imageKey(c.Image)
	}

	old, _, err := overlay.GetImage(j.kust, key)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", j.kustPath, clip(err.Error())), Err: err}
	}
	set := overlay.ImageEdit{NewName: ref.Name, NewTag: ref.Tag, Digest: ref.Digest}
	if ref.Name == key && old.NewName == "" {
		set.NewName = ""
	}
	kust, err := j.editKust(j.kust, "set image "+key, func(b []byte) ([]byte, error) { return overlay.SetImage(b, key, set) })
	if err != nil {
		return nil, err
	}
	got, _, err := overlay.GetImage(kust, key)
	if err != nil {
		return nil, &Error{Code: Internal, Msg: fmt.Sprintf("%s: images: reading back %s failed", j.kustPath, key), Err: err}
	}
	wantName := orDefault(got.NewName, key)
	want := imageRef(wantName, got.NewTag, got.Digest)
	exact := got.NewTag != "" || got.Digest != ""
	runs := func(image string) bool {
		if exact {
			return image == want
		}
		name, _, _ := splitImage(image)
		return name == wantName
	}

	short := shortImage(want)
	label := key
	if c != nil {
		label = c.Name
	}
	noChange := fmt.Sprintf("%s in %s already runs %s", j.svc.Name, j.cmd.Env, short)
	if c != nil && runs(c.Image) {
		return nil, Errorf(NoChange, "%s", noChange)
	}
	fromRef := ""
	if c != nil {
		fromRef = c.Image
	} else if old != (overlay.ImageEdit{}) {
		fromRef = imageRef(orDefault(old.NewName, key), old.NewTag, old.Digest)
	}
	fromShort, fromMD := "(base)", "(base)"
	if fromRef != "" {
		fromShort, fromMD = shortImage(fromRef), "`"+fromRef+"`"
	}
	return &edit{
		files:    map[string][]byte{j.kustPath: kust},
		what:     fmt.Sprintf("set image of %s to %s", label, short),
		summary:  fmt.Sprintf("set image of %s in %s: %s → %s", j.svc.Name, j.cmd.Env, fromShort, short),
		details:  []string{fmt.Sprintf("`%s` (images entry `%s`): %s → `%s`", label, key, fromMD, want)},
		noChange: noChange,
		verify: func(after *overlay.Rendered) error {
			if c != nil {
				aw, ok := after.Find(w.Kind, w.Name)
				if !ok {
					return Errorf(Conflict, "%s disappeared from the render of %s after setting its image", w.ID(), j.where())
				}
				for _, x := range containersOf(aw) {
					if x.Name == c.Name {
						if runs(x.Image) {
							return nil
						}
						return Errorf(Conflict, "container %s of %s would run %s, not %s, after setting the images entry %s (%s)",
							c.Name, w.ID(), x.Image, want, key, j.suspects("image:"))
					}
				}
				return Errorf(Conflict, "container %s of %s disappeared from the render of %s", c.Name, w.ID(), j.where())
			}
			for _, aw := range after.Workloads() {
				for _, x := range containersOf(aw) {
					if runs(x.Image) {
						return nil
					}
				}
			}
			return Errorf(Conflict, "no container of %s in %s would run %s: the images entry %s matches no container (%s)",
				j.svc.Name, j.cmd.Env, want, key, j.suspects("image:"))
		},
	}, nil
}

// imageKey is the images[].name that controls a rendered image: an entry renaming its
// image to it, else the image's own name.
func (j *job) imageKey(rendered string) string {
	name, _, _ := splitImage(rendered)
	for _, k := range j.info.images {
		if k == name {
			return k
		}
	}
	for _, k := range j.info.images {
		if e, ok, err := overlay.GetImage(j.kust, k); err == nil && ok && e.NewName == name {
			return k
		}
	}
	return name
}
