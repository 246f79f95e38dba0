package plan

import (
	"context"
	"fmt"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/overlay"
)

// buildPromote copies the source environment's images entries (and, when the target
// environment has promoteConfig, its ConfigMap literals) into the target overlay.
func buildPromote(ctx context.Context, j *job) (*edit, error) {
	from := j.cmd.From
	if from == "" {
		from = j.cfg.Previous(j.cmd.Env)
	}
	if from == "" {
		return nil, Errorf(Invalid, "%s is the first environment, so there is nothing to promote into it; name a source with --from <env>", j.cmd.Env)
	}
	if !j.svc.Deploys(from) {
		return nil, Errorf(Invalid, "%s is not deployed to %s, so there is nothing to promote from it", j.svc.Name, from)
	}
	srcWhere := fmt.Sprintf("the %s overlay of %s", from, j.svc.Name)
	src, err := loadOverlay(ctx, j.snap, j.svc.OverlayPath(from), srcWhere, "")
	if err != nil {
		return nil, err
	}
	srcKustPath, ok := src.KustomizationPath(j.svc.OverlayPath(from))
	if !ok {
		return nil, Errorf(NotFound, "%s has no kustomization", srcWhere)
	}
	srcKust, _ := src.File(srcKustPath)
	srcInfo, err := readKust(srcKustPath, srcKust)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s does not parse: %s", srcWhere, clip(err.Error())), Err: err}
	}
	names := srcInfo.images
	if j.svc.Image != "" {
		names = []string{j.svc.Image}
	}

	kust := j.kust
	var details, short []string
	var expect []string // image references the target must run afterwards
	for _, name := range names {
		img, ok, err := overlay.GetImage(srcKust, name)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", srcKustPath, clip(err.Error())), Err: err}
		}
		if !ok {
			continue
		}
		old, _, err := overlay.GetImage(kust, name)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", j.kustPath, clip(err.Error())), Err: err}
		}
		if kust, err = j.editKust(kust, "set image "+name, func(b []byte) ([]byte, error) { return overlay.SetImage(b, name, img) }); err != nil {
			return nil, err
		}
		got, _, err := overlay.GetImage(kust, name)
		if err != nil {
			return nil, &Error{Code: Internal, Msg: fmt.Sprintf("%s: images: reading back %s failed", j.kustPath, name), Err: err}
		}
		newRef := imageRef(orDefault(got.NewName, name), got.NewTag, got.Digest)
		if old == got {
			details = append(details, fmt.Sprintf("image `%s`: %s (unchanged)", name, describeImage(name, got)))
		} else {
			details = append(details, fmt.Sprintf("image `%s`: %s → %s", name, describeImage(name, old), describeImage(name, got)))
		}
		short = append(short, shortImage(newRef))
		if got.NewTag != "" || got.Digest != "" {
			expect = append(expect, newRef)
		}
	}
	if len(details) == 0 {
		if j.svc.Image != "" {
			return nil, Errorf(Invalid, "%s sets no image %s in %s; nothing to promote", srcWhere, j.svc.Image, srcKustPath)
		}
		return nil, Errorf(Invalid, "%s sets no images in %s; nothing to promote", srcWhere, srcKustPath)
	}

	var configKeys []string
	if j.env.PromoteConfig && j.svc.ConfigMap != "" {
		lits, ok, err := overlay.GetLiterals(srcKust, j.svc.ConfigMap)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: configMapGenerator: %s", srcKustPath, clip(err.Error())), Err: err}
		}
		if ok && len(lits) > 0 {
			if kust, err = j.editKust(kust, "set literals of "+j.svc.ConfigMap, func(b []byte) ([]byte, error) {
				return overlay.SetLiterals(b, j.svc.ConfigMap, lits, nil)
			}); err != nil {
				return nil, err
			}
			for _, kv := range lits {
				configKeys = append(configKeys, kv.Key)
			}
			details = append(details, fmt.Sprintf("ConfigMap `%s` literals from %s: %s", j.svc.ConfigMap, from, codeList(configKeys)))
		}
	}

	version := strings.Join(short, ", ")
	return &edit{
		files:    map[string][]byte{j.kustPath: kust},
		what:     fmt.Sprintf("promote %s from %s", version, from),
		summary:  fmt.Sprintf("promote %s from %s to %s: %s", j.svc.Name, from, j.cmd.Env, version),
		details:  details,
		noChange: fmt.Sprintf("%s in %s already runs what %s runs (%s)", j.svc.Name, j.cmd.Env, from, version),
		meta:     map[string]string{"from": from},
		verify: func(after *overlay.Rendered) error {
			running := map[string]bool{}
			for _, w := range after.Workloads() {
				for _, c := range containersOf(w) {
					running[c.Image] = true
				}
			}
			for _, ref := range expect {
				if !running[ref] {
					return Errorf(Conflict, "after promoting, no container of %s in %s runs %s: the images entry matches no container (%s)",
						j.svc.Name, j.cmd.Env, ref, j.suspects("image:"))
				}
			}
			return nil
		},
	}, nil
}

func describeImage(name string, e overlay.ImageEdit) string {
	if e == (overlay.ImageEdit{}) {
		return "(base)"
	}
	return "`" + imageRef(orDefault(e.NewName, name), e.NewTag, e.Digest) + "`"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func codeList(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}
