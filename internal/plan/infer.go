package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/valid"
)

// What a command acts on and the config leaves open (workload, container, ConfigMap) is
// read from the render of the environment's overlay with overlay.Inspect and
// Inventory.Choose, never guessed: when the render holds several candidates the command
// is refused with them, and --workload or --container picks one. What the config names
// wins, and a name the render does not hold is an error listing what it holds.

// Inference is what commands act on for a service in one environment, read from the
// config and the overlay's render, each value with where it came from.
type Inference struct {
	Service, Env string
	Workload     Finding // what /restart, /scale, /suspend and /resume act on
	Container    Finding // what /set-image <tag> changes
	ConfigMap    Finding // what /config edits
	Images       Finding // what /promote into Env carries
}

// Finding is one value of an Inference. From says where Value came from or, with Value
// "", why there is none: the refusal a command would get, listing the choices. Both are
// markdown, names in code spans. Wrong marks a value the config names that the render
// does not hold.
type Finding struct {
	Value, From string
	Wrong       bool
}

// Infer says what commands act on for service in env on snap, as planning would find it.
// An overlay that does not load or render is an error; what the render leaves open is not.
func (p *Planner) Infer(ctx context.Context, cfg *repoconfig.Config, snap Snapshot, service, env string) (*Inference, error) {
	if cfg == nil || snap == nil {
		return nil, Errorf(Internal, "inferring needs the repository config and a snapshot")
	}
	svc, ok := cfg.Service(service)
	if !ok {
		return nil, unknown("service", service, cfg.ServiceNames())
	}
	e, ok := cfg.Env(env)
	if !ok {
		return nil, unknown("environment", env, cfg.EnvNames())
	}
	j := &job{p: p, cfg: cfg, env: e, svc: svc, snap: snap, cmd: command.Command{Service: service, Env: env}}
	if err := j.open(ctx); err != nil {
		return nil, err
	}
	in := &Inference{Service: service, Env: env}
	finding := func(f found, err error, configured bool) Finding {
		if err != nil {
			return Finding{From: message(err), Wrong: configured}
		}
		return Finding{Value: f.value, From: f.from}
	}
	j.cmd.Name = "restart"
	_, f, err := j.pickWorkload()
	in.Workload = finding(f, err, svc.Workload != (repoconfig.Workload{}))

	j.cmd.Name, j.cmd.Image = "set-image", command.ImageRef{Tag: "<tag>"}
	cs, key, f, err := j.imageTargets()
	switch {
	case err != nil:
	case len(cs) > 0:
		f.value += ", image " + key
	case !slices.ContainsFunc(containersIn(j.before.Workloads()), func(t target) bool { return j.imageKey(t.c.Image) == key }):
		err = Errorf(NotFound, "%s names %s, which no container runs in %s", configured("image"), markdown.Code(key), env)
	}
	in.Container = finding(f, err, svc.Container != "" || svc.Image != "")

	j.cmd.Name = "config"
	f, err = j.pickConfigMap()
	if _, ok := findConfigMap(j.before, j.info, f.value); err == nil && svc.ConfigMap != "" && !ok {
		err = Errorf(NotFound, "%s names %s, which %s does not generate", configured("configMap"), markdown.Code(f.value), j.where())
	}
	in.ConfigMap = finding(f, err, svc.ConfigMap != "")

	j.cmd.Name = "promote"
	switch pr, err := j.promotion(ctx); {
	case err != nil:
		in.Images = Finding{From: message(err)}
	case len(pr.names) == 0:
		in.Images = Finding{From: fmt.Sprintf("%s pins no image this environment runs", pr.where)}
	default:
		from := fmt.Sprintf("every image %s pins that runs here", pr.where)
		if pr.fromImages {
			from = configured("images") + ", from " + pr.from
		}
		if len(pr.skipped) > 0 {
			from += fmt.Sprintf("; not %s, which runs in no container here", codeChoices(pr.skipped))
		}
		in.Images = Finding{Value: strings.Join(pr.names, ", "), From: from}
	}
	return in, nil
}

// message is what a person reads of err.
func message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}

// found is what a command acts on, and where that came from.
type found struct {
	value string // "StatefulSet/ledger-staging", "api", "payments-config"
	from  string // "the only workload in the render"
}

// configured says a value came from the repository config.
func configured(key string) string { return fmt.Sprintf("`%s:` in %s", key, repoconfig.Path) }

// inventory is what the BEFORE render runs, read once per job.
func (j *job) inventory() overlay.Inventory {
	if j.inv == nil {
		inv := overlay.Inspect(j.tree, j.before)
		j.inv = &inv
	}
	return *j.inv
}

// actionable lists the workloads commands act on (overlay.ActionKinds), in render order.
func (j *job) actionable() []overlay.Workload {
	var out []overlay.Workload
	for _, w := range j.inventory().Workloads {
		if slices.Contains(overlay.ActionKinds, w.Kind) {
			out = append(out, w)
		}
	}
	return out
}

// matchWorkloads lists the workloads of ws of that kind ("" any, case ignored) named
// name as rendered or as the overlay's patches name it (before its namePrefix/nameSuffix).
func (j *job) matchWorkloads(ws []overlay.Workload, kind, name string) []overlay.Workload {
	var out []overlay.Workload
	for _, w := range ws {
		if kind != "" && !strings.EqualFold(w.Kind, kind) {
			continue
		}
		if w.Name == name || w.Name == j.info.renderedName(name) {
			out = append(out, w)
		}
	}
	return out
}

// namedAfterService reports whether w carries the service's name, as rendered or not.
func (j *job) namedAfterService(w overlay.Workload) bool {
	return w.Name == j.svc.Name || w.Name == j.info.renderedName(j.svc.Name)
}

// pickWorkload returns the one workload the command acts on, from, in order: --workload,
// the config's workload (a part it leaves out read from the render), the render alone
// (the only workload, the one named after the service, the only one running the service's
// image).
func (j *job) pickWorkload() (overlay.Workload, found, error) {
	ws := j.actionable()
	if len(ws) == 0 {
		return overlay.Workload{}, found{}, Errorf(Invalid, "%s renders no Deployment, StatefulSet, DaemonSet or Rollout; there is nothing to %s", j.where(), j.cmd.Name)
	}
	if flag := j.cmd.Workload; flag != "" {
		kind, name, ok := strings.Cut(flag, "/")
		if !ok {
			kind, name = "", flag
		}
		switch m := j.matchWorkloads(ws, kind, name); len(m) {
		case 1:
			return m[0], found{m[0].ID(), "`--workload`"}, nil
		case 0:
			return overlay.Workload{}, found{}, Errorf(Invalid, "%s in %s has no workload %s; it runs %s",
				j.svc.Name, j.cmd.Env, markdown.Code(flag), codeChoices(workloadIDs(ws)))
		default:
			return overlay.Workload{}, found{}, Errorf(Invalid, "%s names %d workloads of %s in %s (%s); write it as `--workload <Kind>/<name>`",
				markdown.Code("--workload "+flag), len(m), j.svc.Name, j.cmd.Env, codeChoices(workloadIDs(m)))
		}
	}
	if kind, name := j.svc.Workload.Kind, j.svc.Workload.Name; name != "" {
		id := name
		if kind != "" {
			id = kind + "/" + name
		}
		switch m := j.matchWorkloads(ws, kind, name); len(m) {
		case 1:
			from := configured("workload")
			if kind == "" {
				from += ", its kind from the render"
			}
			return m[0], found{m[0].ID(), from}, nil
		case 0:
			return overlay.Workload{}, found{}, Errorf(NotFound, "%s is not in the render of %s (workloads: %s); fix `workload:` of %s in %s",
				markdown.Code(id), j.where(), codeChoices(workloadIDs(ws)), j.svc.Name, repoconfig.Path)
		default:
			return overlay.Workload{}, found{}, Errorf(Invalid, "`workload:` of %s in %s names %s, which is %d workloads in %s (%s); give its kind too",
				j.svc.Name, repoconfig.Path, markdown.Code(name), len(m), j.cmd.Env, codeChoices(workloadIDs(m)))
		}
	} else if kind != "" {
		var ofKind []overlay.Workload
		for _, w := range ws {
			if w.Kind == kind {
				ofKind = append(ofKind, w)
			}
		}
		switch named := j.matchWorkloads(ofKind, kind, j.svc.Name); {
		case len(ofKind) == 0:
			return overlay.Workload{}, found{}, Errorf(NotFound, "%s renders no %s (workloads: %s); fix `workload:` of %s in %s",
				j.where(), kind, codeChoices(workloadIDs(ws)), j.svc.Name, repoconfig.Path)
		case len(ofKind) == 1:
			return ofKind[0], found{ofKind[0].ID(), configured("workload") + ", the only " + kind + " in the render"}, nil
		case len(named) == 1:
			return named[0], found{named[0].ID(), configured("workload") + ", the " + kind + " named after the service"}, nil
		default:
			return overlay.Workload{}, found{}, j.whichWorkload(ofKind)
		}
	}
	inv := j.inventory()
	rendered := j.info.renderedName(j.svc.Name)
	w, cands, ok := inv.Choose(rendered, j.svc.Image)
	if !ok && rendered != j.svc.Name {
		w, cands, ok = inv.Choose(j.svc.Name, j.svc.Image)
	}
	if !ok {
		return overlay.Workload{}, found{}, j.whichWorkload(cands)
	}
	switch {
	case len(ws) == 1:
		return w, found{w.ID(), "the only workload in the render"}, nil
	case j.namedAfterService(w):
		return w, found{w.ID(), "the workload named after the service"}, nil
	}
	return w, found{w.ID(), "the only workload running " + markdown.Code(j.svc.Image) + ", " + configured("image")}, nil
}

// whichWorkload refuses a command on a service running several workloads, listing them.
func (j *job) whichWorkload(ws []overlay.Workload) error {
	return Errorf(Invalid, "which workload of %s in %s? it runs %s; repeat the command with one of them, like %s, or set `workload:` of %s in %s",
		j.svc.Name, j.cmd.Env, codeChoices(workloadIDs(ws)), markdown.Code(j.retry("--workload", ws[0].Name)), j.svc.Name, repoconfig.Path)
}

// retry is the command as asked, with a flag added, as an example for a refusal.
func (j *job) retry(flag, value string) string {
	line := strings.TrimSpace(j.cmd.Line)
	if line == "" || len(line) > 200 || strings.Contains(line, flag+" ") || strings.Contains(line, flag+"=") {
		line = "/" + j.cmd.Name
		switch j.cmd.Name {
		case "scale":
			line += fmt.Sprintf(" %d", j.cmd.Replicas)
		case "set-image":
			ref := j.cmd.Image
			ref.Container = ""
			line += " " + ref.String()
		}
		line += " --service " + j.svc.Name + " --env " + j.cmd.Env
	}
	return line + " " + flag + " " + value
}

func workloadIDs(ws []overlay.Workload) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID()
	}
	return out
}

// workload finds the workload the command acts on in the BEFORE render.
func (j *job) workload() (overlay.Resource, error) {
	w, _, err := j.pickWorkload()
	if err != nil {
		return overlay.Resource{}, err
	}
	res, ok := j.before.Find(w.Kind, w.Name)
	if !ok {
		return res, Errorf(Internal, "%s is in the inventory of %s but not in its render", w.ID(), j.where())
	}
	return res, nil
}

// pickConfigMap returns the configMapGenerator /config edits: the config's, else the only
// one the overlay generates, else the only generated one the workload (--workload or the
// config's) or, with none named, all of its workloads use.
func (j *job) pickConfigMap() (found, error) {
	if cm := j.svc.ConfigMap; cm != "" {
		return found{cm, configured("configMap")}, nil
	}
	inv := j.inventory()
	var gens []string
	for _, cm := range inv.ConfigMaps {
		if !slices.Contains(gens, cm.Generator) {
			gens = append(gens, cm.Generator)
		}
	}
	if len(gens) == 0 {
		return found{}, Errorf(Invalid, "%s generates no ConfigMap; add a `configMapGenerator` to %s, or name the service's with `configMap:` in %s",
			j.where(), j.kustPath, repoconfig.Path)
	}
	if j.cmd.Workload != "" || j.svc.Workload.Kind != "" || j.svc.Workload.Name != "" {
		w, _, err := j.pickWorkload()
		if err != nil {
			return found{}, err
		}
		if len(w.ConfigMaps) == 1 {
			return found{w.ConfigMaps[0], "the only generated ConfigMap " + markdown.Code(w.ID()) + " uses"}, nil
		}
		if j.cmd.Workload != "" {
			return found{}, Errorf(Invalid, "%s uses %s of the ConfigMaps %s generates (%s); set `configMap:` of %s in %s",
				markdown.Code(w.ID()), countOf(len(w.ConfigMaps)), j.where(), codeChoices(gens), j.svc.Name, repoconfig.Path)
		}
	}
	if len(gens) == 1 {
		return found{gens[0], "the only ConfigMap the overlay generates"}, nil
	}
	var used []string
	for _, w := range j.actionable() {
		for _, g := range w.ConfigMaps {
			if !slices.Contains(used, g) {
				used = append(used, g)
			}
		}
	}
	if len(used) == 1 {
		return found{used[0], "the only generated ConfigMap the workloads use"}, nil
	}
	// Say which workload uses which, and suggest a workload using one only.
	shown := make([]string, len(gens))
	eg := "<name>"
	for i, g := range gens {
		var users []string
		for _, w := range j.actionable() {
			if slices.Contains(w.ConfigMaps, g) {
				users = append(users, w.ID())
				if eg == "<name>" && len(w.ConfigMaps) == 1 {
					eg = w.Name
				}
			}
		}
		shown[i] = markdown.Code(g)
		if len(users) > 0 {
			shown[i] += " (used by " + codeChoices(users) + ")"
		}
	}
	return found{}, Errorf(Invalid, "which ConfigMap of %s in %s? the overlay generates %s; repeat the command with the workload whose ConfigMap to edit, like %s, or set `configMap:` of %s in %s",
		j.svc.Name, j.cmd.Env, listText(shown), markdown.Code(j.retry("--workload", eg)), j.svc.Name, repoconfig.Path)
}

func countOf(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d", n)
}

// target is one container a /set-image may change.
type target struct {
	w overlay.Resource
	c container
}

func (t target) String() string { return fmt.Sprintf("%s in %s/%s", t.c.Name, t.w.Kind, t.w.Name) }

// describeTargets lists containers for a refusal: "`api` (`ghcr.io/acme/api:1.0`)", with
// "in `Deployment/x`" when they belong to several workloads.
func describeTargets(ts []target) string {
	several := slices.ContainsFunc(ts, func(t target) bool { return t.w.ID() != ts[0].w.ID() })
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%s (%s)", markdown.Code(t.c.Name), markdown.Code(t.c.Image))
		if several {
			out[i] = fmt.Sprintf("%s in %s (%s)", markdown.Code(t.c.Name), markdown.Code(t.w.Kind+"/"+t.w.Name), markdown.Code(t.c.Image))
		}
	}
	return listText(out)
}

// containersIn lists the containers of workloads ws, init containers included.
func containersIn(ws []overlay.Resource) []target {
	var out []target
	for _, w := range ws {
		for _, c := range containersOf(w) {
			out = append(out, target{w, c})
		}
	}
	return out
}

// imageTargets is what /set-image changes: the containers whose images entry it edits,
// that entry's name (images[].name), and where that came from. cs is empty when the
// entry is the config's image, which every container running it follows.
func (j *job) imageTargets() (cs []target, key string, f found, err error) {
	ref := j.cmd.Image
	// The workloads to look in: the one named (by --workload or the config), else all.
	scope, explicit := j.before.Workloads(), false
	if j.cmd.Workload != "" || j.svc.Workload.Kind != "" || j.svc.Workload.Name != "" {
		w, err := j.workload()
		if err != nil {
			return nil, "", found{}, err
		}
		scope, explicit = []overlay.Resource{w}, true
	}
	all := containersIn(scope)
	byName := func(name, from string) ([]target, string, found, error) {
		var m []target
		for _, t := range all {
			if t.c.Name == name {
				m = append(m, t)
			}
		}
		if len(m) == 0 {
			return nil, "", found{}, Errorf(Invalid, "%s in %s has no container %s%s; it runs %s",
				j.scopeName(scope, explicit), j.cmd.Env, markdown.Code(name), from, describeTargets(all))
		}
		key := j.imageKey(m[0].c.Image)
		for _, t := range m[1:] {
			if j.imageKey(t.c.Image) != key {
				return nil, "", found{}, Errorf(Invalid, "several workloads of %s in %s have a container %s, running different images: %s; repeat the command with one of them, like %s",
					j.svc.Name, j.cmd.Env, markdown.Code(name), describeTargets(m), markdown.Code(j.retry("--workload", m[0].w.Name)))
			}
		}
		return m, key, found{containerIDs(m), "named" + from}, nil
	}
	switch {
	case ref.Container != "":
		return byName(ref.Container, "")
	case ref.Name != "":
		var m []target
		for _, t := range all {
			if name, _, _ := valid.SplitImage(t.c.Image); name == ref.Name || j.imageKey(t.c.Image) == ref.Name {
				m = append(m, t)
			}
		}
		if len(m) > 0 {
			from := "the only container running " + markdown.Code(ref.Name)
			if len(m) > 1 {
				from = "every container running " + markdown.Code(ref.Name)
			}
			return m, j.imageKey(m[0].c.Image), found{containerIDs(m), from}, nil
		}
		// No container runs that name: the image is renamed, in the service's container.
	}
	if j.svc.Image != "" {
		// With --workload, the config's image only when that workload runs it.
		runs := slices.ContainsFunc(all, func(t target) bool { return j.imageKey(t.c.Image) == j.svc.Image })
		if j.cmd.Workload == "" || runs {
			return nil, j.svc.Image, found{"every container running " + j.svc.Image, configured("image")}, nil
		}
	}
	if j.svc.Container != "" {
		return byName(j.svc.Container, " (the one "+configured("container")+" names)")
	}
	if !explicit {
		w, err := j.workload()
		if err != nil {
			if ErrorCode(err) == Invalid && len(j.actionable()) > 1 {
				return nil, "", found{}, j.whichContainer(all)
			}
			return nil, "", found{}, err
		}
		scope, all = []overlay.Resource{w}, containersIn([]overlay.Resource{w})
	}
	var main []target
	for _, t := range all {
		if !t.c.Init {
			main = append(main, t)
		}
	}
	if len(main) != 1 {
		return nil, "", found{}, j.whichContainer(main)
	}
	return main, j.imageKey(main[0].c.Image), found{containerIDs(main), "the only container of " + markdown.Code(scope[0].Kind+"/"+scope[0].Name)}, nil
}

// whichContainer refuses a /set-image that names no container, when several could be meant.
func (j *job) whichContainer(ts []target) error {
	if len(ts) == 0 {
		return Errorf(Invalid, "%s runs no container; there is no image to set", j.where())
	}
	eg := j.cmd.Image
	eg.Container = ""
	return Errorf(Invalid, "which container of %s in %s? it runs %s; repeat the command with one of them, like %s, or name the image: %s",
		j.svc.Name, j.cmd.Env, describeTargets(ts), markdown.Code(j.retry("--container", ts[0].c.Name)),
		markdown.Code("/set-image <image>:<tag>"))
}

// scopeName names where /set-image looked for a container.
func (j *job) scopeName(scope []overlay.Resource, explicit bool) string {
	if explicit && len(scope) == 1 {
		return markdown.Code(scope[0].Kind + "/" + scope[0].Name)
	}
	return j.svc.Name
}

func containerIDs(ts []target) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return strings.Join(out, ", ")
}

// codeChoices shows names as code spans, "a, b and c", cut short when there are many.
func codeChoices(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = markdown.Code(x)
	}
	return listText(out)
}

// listText joins items as "a, b and c", cut short after ten.
func listText(xs []string) string {
	const max = 10
	switch {
	case len(xs) == 0:
		return "none"
	case len(xs) > max:
		return strings.Join(xs[:max], ", ") + fmt.Sprintf(" and %d more", len(xs)-max)
	case len(xs) == 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
