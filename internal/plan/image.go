package plan

import (
	"context"
	"fmt"
	"slices"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/valid"
)

// buildSetImage upserts the kustomization images entry of the image a container runs.
// The container is found by imageTargets: the one named, the one running the named image,
// the config's image or container, else the workload's only container.
func buildSetImage(_ context.Context, j *job) (*edit, error) {
	ref := j.cmd.Image
	if ref.Tag == "" && ref.Digest == "" && ref.Name == "" {
		return nil, Errorf(Invalid, "set-image needs a tag, an image:tag or an image@digest")
	}
	cs, key, _, err := j.imageTargets()
	if err != nil {
		return nil, err
	}

	old, _, err := overlay.GetImage(j.kust, key)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", j.kustPath, clipMessage(err.Error())), Err: err}
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
		name, _, _ := valid.SplitImage(image)
		return name == wantName
	}

	short := shortImage(want)
	label := key
	if len(cs) == 1 {
		label = cs[0].c.Name
	}
	noChange := fmt.Sprintf("%s in %s already runs %s", j.svc.Name, j.cmd.Env, short)
	if len(cs) > 0 && !slices.ContainsFunc(cs, func(t target) bool { return !runs(t.c.Image) }) {
		return nil, Errorf(NoChange, "%s", noChange)
	}
	fromRef := ""
	if len(cs) > 0 {
		fromRef = cs[0].c.Image
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
		sets:     []string{"image:" + key},
		verify: func(after *overlay.Rendered) error {
			for _, t := range cs {
				if err := j.checkRuns(after, t, want, key, runs); err != nil {
					return err
				}
			}
			if len(cs) > 0 {
				return nil
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

// checkRuns proves container t runs want in the AFTER render of a /set-image.
func (j *job) checkRuns(after *overlay.Rendered, t target, want, key string, runs func(string) bool) error {
	aw, ok := after.Find(t.w.Kind, t.w.Name)
	if !ok {
		return Errorf(Conflict, "%s disappeared from the render of %s after setting its image", t.w.ID(), j.where())
	}
	for _, x := range containersOf(aw) {
		if x.Name == t.c.Name {
			if runs(x.Image) {
				return nil
			}
			return Errorf(Conflict, "container %s of %s would run %s, not %s, after setting the images entry %s (%s)",
				t.c.Name, t.w.ID(), x.Image, want, key, j.suspects("image:"))
		}
	}
	return Errorf(Conflict, "container %s of %s disappeared from the render of %s", t.c.Name, t.w.ID(), j.where())
}

// imageKey is the images[].name that controls a rendered image: an entry renaming its
// image to it, else the image's own name.
func (j *job) imageKey(rendered string) string {
	name, _, _ := valid.SplitImage(rendered)
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
