package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// promotion is what /promote reads of its source environment, and the images it carries.
type promotion struct {
	from, where string // "dev", "the dev overlay of payments"
	kustPath    string
	kust        []byte
	names       []string // images[].name to carry, in order
	skipped     []string // pinned in the source, run by no container of the target
	fromImages  bool     // names are the config's images:
	// runningHere is the image a container of the target runs under an images[].name.
	runningHere func(name string) (string, bool)
}

// promotion reads the source of a /promote (--from, else the environment before the
// target) and chooses the images to carry: every image the service's images: lists, all
// of them pinned in the source (a release moves whole or not at all); else every image the
// source pins that the target runs.
func (j *job) promotion(ctx context.Context) (*promotion, error) {
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
	pr := &promotion{from: from, where: fmt.Sprintf("the %s overlay of %s", from, j.svc.Name)}
	src, err := loadOverlay(ctx, j.snap, j.svc.OverlayPath(from), pr.where, "")
	if err != nil {
		return nil, err
	}
	var ok bool
	if pr.kustPath, ok = src.KustomizationPath(j.svc.OverlayPath(from)); !ok {
		return nil, Errorf(NotFound, "%s has no kustomization", pr.where)
	}
	pr.kust, _ = src.File(pr.kustPath)
	srcInfo, err := readKust(pr.kustPath, pr.kust)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s does not parse: %s", pr.where, clipMessage(err.Error())), Err: err}
	}
	here := j.inventory()
	pr.runningHere = func(name string) (string, bool) {
		for _, w := range here.Workloads {
			for _, c := range w.Containers {
				if c.ImageName == name || c.RenderedImageName() == name {
					return c.Image, true
				}
			}
		}
		return "", false
	}
	if len(j.svc.Images) > 0 {
		var missing []string
		for _, name := range j.svc.Images {
			_, ok, err := overlay.GetImage(pr.kust, name)
			if err != nil {
				return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", pr.kustPath, clipMessage(err.Error())), Err: err}
			}
			if !ok {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return nil, Errorf(Invalid, "%s pins no %s in %s, so the release `images:` of %s lists in %s would move only in part; pin it there first, or change `images:`",
				pr.where, codeChoices(missing), pr.kustPath, j.svc.Name, repoconfig.Path)
		}
		pr.names, pr.fromImages = j.svc.Images, true
		return pr, nil
	}
	for _, name := range srcInfo.images {
		if _, ok := pr.runningHere(name); ok {
			pr.names = append(pr.names, name)
		} else {
			pr.skipped = append(pr.skipped, name)
		}
	}
	return pr, nil
}

// buildPromote copies the images entries promotion chooses (and, when the target
// environment has promoteConfig, the ConfigMap literals) from the source into the target
// overlay, so images released together move together.
func buildPromote(ctx context.Context, j *job) (*edit, error) {
	pr, err := j.promotion(ctx)
	if err != nil {
		return nil, err
	}
	from, srcWhere, srcKustPath, srcKust, names, skipped, runsHere := pr.from, pr.where, pr.kustPath, pr.kust, pr.names, pr.skipped, pr.runningHere

	kust := j.kust
	var details, versions, moves []string
	var expect []string // image references the target must run afterwards
	for _, name := range names {
		img, ok, err := overlay.GetImage(srcKust, name)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", srcKustPath, clipMessage(err.Error())), Err: err}
		}
		if !ok {
			continue
		}
		old, _, err := overlay.GetImage(kust, name)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: images: %s", j.kustPath, clipMessage(err.Error())), Err: err}
		}
		if kust, err = j.editKust(kust, "set image "+name, func(b []byte) ([]byte, error) { return overlay.SetImage(b, name, img) }); err != nil {
			return nil, err
		}
		got, _, err := overlay.GetImage(kust, name)
		if err != nil {
			return nil, &Error{Code: Internal, Msg: fmt.Sprintf("%s: images: reading back %s failed", j.kustPath, name), Err: err}
		}
		newRef := imageRef(orDefault(got.NewName, name), got.NewTag, got.Digest)
		oldShort := "(base)"
		if running, ok := runsHere(name); ok {
			oldShort = shortImage(running)
		}
		if old == got {
			details = append(details, fmt.Sprintf("image `%s`: %s (unchanged)", name, describeImage(name, got)))
			moves = append(moves, fmt.Sprintf("%s %s (unchanged)", name, shortImage(newRef)))
		} else {
			details = append(details, fmt.Sprintf("image `%s`: %s → %s", name, describeImage(name, old), describeImage(name, got)))
			moves = append(moves, fmt.Sprintf("%s %s → %s", name, oldShort, shortImage(newRef)))
		}
		if v := shortImage(newRef); !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
		if got.NewTag != "" || got.Digest != "" {
			expect = append(expect, newRef)
		}
	}
	if len(details) == 0 {
		if len(skipped) > 0 {
			return nil, Errorf(Invalid, "%s pins %s, which no container of %s in %s runs; nothing to promote", srcWhere, codeChoices(skipped), j.svc.Name, j.cmd.Env)
		}
		return nil, Errorf(Invalid, "%s sets no images in %s; nothing to promote", srcWhere, srcKustPath)
	}
	for _, name := range skipped {
		details = append(details, fmt.Sprintf("image `%s` is pinned in %s but runs in no container of %s in %s: not carried", name, from, j.svc.Name, j.cmd.Env))
	}

	var configKeys []string
	cm := j.svc.ConfigMap
	if j.env.PromoteConfig && cm == "" && len(j.inventory().ConfigMaps) > 0 {
		picked, err := j.pickConfigMap()
		if err != nil {
			details = append(details, fmt.Sprintf("ConfigMap literals are not carried: the overlay generates several ConfigMaps and `configMap:` of %s in %s names none", j.svc.Name, repoconfig.Path))
		}
		cm = picked.value
	}
	if j.env.PromoteConfig && cm != "" {
		lits, ok, err := overlay.GetLiterals(srcKust, cm)
		if err != nil {
			return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s: configMapGenerator: %s", srcKustPath, clipMessage(err.Error())), Err: err}
		}
		if ok && len(lits) > 0 {
			if kust, err = j.editKust(kust, "set literals of "+cm, func(b []byte) ([]byte, error) {
				return overlay.SetLiterals(b, cm, lits, nil)
			}); err != nil {
				return nil, err
			}
			for _, kv := range lits {
				configKeys = append(configKeys, kv.Key)
			}
			details = append(details, fmt.Sprintf("ConfigMap `%s` literals from %s: %s", cm, from, codeList(configKeys)))
		}
	}

	version := strings.Join(versions, ", ")
	return &edit{
		files:    map[string][]byte{j.kustPath: kust},
		what:     fmt.Sprintf("promote %s from %s", version, from),
		summary:  fmt.Sprintf("promote %s from %s to %s: %s", j.svc.Name, from, j.cmd.Env, strings.Join(moves, ", ")),
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
