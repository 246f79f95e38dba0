package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/overlay"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Limits GitHub puts on what a ChangeSet becomes.
const (
	MaxTitleLen = 255
	MaxBodyLen  = 65536
)

// Names daytwo writes into overlays.
const (
	// PatchFile is the daytwo-owned strategic-merge patch file in an overlay directory.
	PatchFile = "daytwo-patch.yaml"
	// RestartedAtAnnotation is the pod-template annotation `kubectl rollout restart` sets.
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
	// SuspendedReplicasAnnotation keeps the replica count /suspend replaced by 0.
	SuspendedReplicasAnnotation = "daytwo.dev/replicas-before-suspend"
)

// Planner turns requests into ChangeSets. It holds no per-request state and is safe for
// concurrent use.
type Planner struct {
	now       func() time.Time // used when a Request carries no Now
	tmpl      *template.Template
	bodyLimit int // PR body bytes; diffs are cut to fit
}

// historyLimit is how many commits /rollback reads to find the last daytwo change.
const historyLimit = 200

// New returns a Planner using the embedded PR templates.
func New() *Planner {
	return &Planner{now: time.Now, tmpl: prTemplates, bodyLimit: MaxBodyLen}
}

// commands says what each command is (a change or not, of a service or an environment):
// the registry's Specs, checked against overlayActions when the package loads.
var commands = checkedCommands()

func checkedCommands() *command.Registry {
	reg := command.All()
	for _, n := range reg.Names() {
		s, _ := reg.Lookup(n)
		if overlayChange(s) != (overlayActions[n] != nil) {
			panic("plan: the registry's /" + n + " and the overlay actions disagree") // a programming error, caught by every test
		}
	}
	for n := range overlayActions {
		if _, ok := reg.Lookup(n); !ok {
			panic("plan: an overlay action for /" + n + ", which is no command")
		}
	}
	return reg
}

// overlayChange reports whether s is a change of a service, planned as an edit of its
// overlay.
func overlayChange(s command.Spec) bool {
	return s.Mutating && !s.Repository && !s.Environment && !s.External
}

// envOnly reports whether a command acts on an environment as a whole, not on a service.
func envOnly(name string) bool {
	s, _ := commands.Lookup(name)
	return s.Environment
}

// Plan computes the ChangeSet of req on snap: it resolves req.Command (Resolve), then
// plans it as PlanResolved does. cfg is the parsed .github/daytwo.yml and configFile its
// bytes (edited by /freeze and /unfreeze; read from snap when nil). hist is needed by
// /rollback only.
func (p *Planner) Plan(ctx context.Context, cfg *repoconfig.Config, configFile []byte, snap Snapshot, hist History, req Input) (*ChangeSet, error) {
	if err := plannable(cfg, snap, req.Command); err != nil {
		return nil, err
	}
	cmd, err := p.Resolve(cfg, req)
	if err != nil {
		return nil, err
	}
	req.Command = cmd
	return p.plan(ctx, cfg, configFile, snap, hist, req)
}

// PlanResolved is Plan for a command Resolve returned: a caller that resolved it already,
// to know its target before planning, does not resolve it again. A command naming no
// environment of cfg, or no service deployed there, was not resolved: an Internal error.
func (p *Planner) PlanResolved(ctx context.Context, cfg *repoconfig.Config, configFile []byte, snap Snapshot, hist History, req Input) (*ChangeSet, error) {
	if err := plannable(cfg, snap, req.Command); err != nil {
		return nil, err
	}
	cmd := req.Command
	svc, _ := cfg.Service(cmd.Service)
	if _, ok := cfg.Env(cmd.Env); !ok || !envOnly(cmd.Name) && (svc == nil || !svc.Deploys(cmd.Env)) {
		return nil, Errorf(Internal, "/%s was not resolved to a target of the config (service %q, environment %q); resolve it first", cmd.Name, cmd.Service, cmd.Env)
	}
	return p.plan(ctx, cfg, configFile, snap, hist, req)
}

// plannable refuses what cannot be planned: a command that is not a change, or nothing to
// plan it on.
func plannable(cfg *repoconfig.Config, snap Snapshot, cmd command.Command) error {
	if cfg == nil || snap == nil {
		return Errorf(Internal, "planning needs the repository config and a snapshot")
	}
	switch s, _ := commands.Lookup(cmd.Name); {
	case s.External:
		return Errorf(Invalid, "/%s acts outside Git; there is no change to plan: ask for it on GitHub", cmd.Name)
	case !s.Mutating || s.Repository:
		return Errorf(Invalid, "/%s is not a change; there is nothing to plan", cmd.Name)
	case cmd.For > 0 && !Timeboxed(cmd):
		return Errorf(Invalid, "/%s cannot be time-boxed: --for is for /scale, /suspend, /config set, /set-image and /freeze", cmd.Name)
	}
	return nil
}

// plan plans req, whose command is resolved.
func (p *Planner) plan(ctx context.Context, cfg *repoconfig.Config, configFile []byte, snap Snapshot, hist History, req Input) (*ChangeSet, error) {
	cmd := req.Command
	if req.Now.IsZero() {
		req.Now = p.now()
	}
	env, _ := cfg.Env(cmd.Env)
	j := &job{p: p, cfg: cfg, env: env, req: req, cmd: cmd, snap: snap, hist: hist}
	if envOnly(cmd.Name) {
		return p.planFreeze(ctx, j, configFile)
	}
	if f, frozen := cfg.Frozen(cmd.Env); frozen && !cmd.BreakGlass {
		return nil, Errorf(Forbidden, "%s; ask for /unfreeze --env %s first, or repeat with --break-glass in an emergency", freezeText(cmd.Env, f), cmd.Env)
	}
	j.svc, _ = cfg.Service(cmd.Service)
	return p.planOverlay(ctx, j, overlayActions[cmd.Name])
}

// job is one planning run.
type job struct {
	p    *Planner
	cfg  *repoconfig.Config
	env  *repoconfig.Environment
	svc  *repoconfig.Service
	req  Input
	cmd  command.Command
	snap Snapshot
	hist History

	dir      string
	tree     *overlay.Tree
	kustPath string
	kust     []byte
	info     kustInfo
	before   *overlay.Rendered
	inner    *overlay.Rendered  // render without the overlay's namespace field, when needed
	inv      *overlay.Inventory // what before runs, read when first needed
}

// edit is what an action decides; planOverlay proves it and turns it into a ChangeSet.
type edit struct {
	files    map[string][]byte // path → new content; nil deletes
	what     string            // title phrase: "scale to 5 replicas"
	summary  string            // "scale checkout in prod: 2 → 5 replicas"
	details  []string          // markdown bullets for the PR body
	noChange string            // message when the render does not change
	verify   func(after *overlay.Rendered) error
	meta     map[string]string
	risk     Risk // "" = the default tier of the action
	// sets, when not nil, replaces Fields(cmd): what the change sets once planning found
	// the workload or image it acts on, so that changes of two workloads of one service
	// do not count as overriding each other.
	sets []string
}

func (e *edit) fields(cmd command.Command) []string {
	if e.sets != nil {
		return e.sets
	}
	return Fields(cmd)
}

type action func(ctx context.Context, j *job) (*edit, error)

// overlayActions are how each change of a service (command.Spec: mutating, neither on the
// repository nor on an environment) edits the overlay; commands checks them against the
// registry.
var overlayActions = map[string]action{
	"promote":   buildPromote,
	"restart":   buildRestart,
	"redeploy":  buildRedeploy,
	"scale":     buildScale,
	"set-image": buildSetImage,
	"config":    buildConfig,
	"suspend":   buildSuspend,
	"resume":    buildResume,
	"rollback":  buildRollback,
}

// target is "checkout/prod", how titles and messages name what a change acts on.
func (j *job) target() string {
	if j.cmd.Service == "" {
		return j.cmd.Env
	}
	return j.cmd.Service + "/" + j.cmd.Env
}

// where is "the prod overlay of checkout".
func (j *job) where() string { return fmt.Sprintf("the %s overlay of %s", j.cmd.Env, j.cmd.Service) }

// open loads and renders the overlay of the job's service in its environment.
func (j *job) open(ctx context.Context) error {
	j.dir = j.svc.OverlayPath(j.cmd.Env)
	tree, err := loadOverlay(ctx, j.snap, j.dir, j.where(), "")
	if err != nil {
		return err
	}
	j.tree = tree
	kp, ok := tree.KustomizationPath(j.dir)
	if !ok {
		return Errorf(NotFound, "%s has no kustomization at %s", j.where(), j.dir)
	}
	j.kustPath = kp
	j.kust, _ = tree.File(kp)
	if j.info, err = readKust(kp, j.kust); err != nil {
		return &Error{Code: Broken, Msg: fmt.Sprintf("%s does not parse: %s", j.where(), clipMessage(err.Error())), Err: err}
	}
	if j.before, err = tree.Render(); err != nil {
		return &Error{Code: Broken, Msg: fmt.Sprintf("%s does not render today: %s; fix it first", j.where(), clipMessage(err.Error())), Err: err}
	}
	return nil
}

func (p *Planner) planOverlay(ctx context.Context, j *job, build action) (*ChangeSet, error) {
	if err := j.open(ctx); err != nil {
		return nil, err
	}
	tree := j.tree
	e, err := build(ctx, j)
	if err != nil {
		return nil, err
	}
	files, err := j.fileChanges(ctx, e.files)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		// The files already say what was asked; if the render disagrees, something else
		// overrides them and no edit of ours can help.
		if e.verify != nil {
			if err := e.verify(j.before); err != nil {
				return nil, err
			}
		}
		return nil, Errorf(NoChange, "%s", e.noChange)
	}
	after, err := tree.With(e.files).Render()
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s (%s) would break %s: %s", j.target(), e.what, j.where(), clipMessage(err.Error())), Err: err}
	}
	if e.verify != nil {
		if err := e.verify(after); err != nil {
			return nil, err
		}
	}
	rendered := overlay.Diff(j.before, after)
	if rendered == "" {
		return nil, Errorf(NoChange, "%s", e.noChange)
	}
	return p.finish(j, e, files, rendered)
}

// loadOverlay loads the overlay at dir, telling a missing overlay from a broken one.
func loadOverlay(ctx context.Context, snap Snapshot, dir, where, at string) (*overlay.Tree, error) {
	tree, err := overlay.Load(ctx, snap, dir)
	if err == nil {
		return tree, nil
	}
	if ctx.Err() != nil {
		return nil, &Error{Code: Internal, Msg: "planning was cancelled", Err: err}
	}
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := snap.ReadDir(ctx, dir); errors.Is(derr, fs.ErrNotExist) {
			return nil, &Error{Code: NotFound, Msg: fmt.Sprintf("%s does not exist%s: no directory %s", where, at, dir), Err: err}
		}
	}
	return nil, &Error{Code: Broken, Msg: fmt.Sprintf("%s does not load%s: %s", where, at, clipMessage(err.Error())), Err: err}
}

// fileChanges turns edited contents into FileChanges with their Before, dropping no-ops.
func (j *job) fileChanges(ctx context.Context, files map[string][]byte) ([]FileChange, error) {
	var out []FileChange
	for path, content := range files {
		before, ok := j.tree.File(path)
		if !ok {
			b, err := j.snap.ReadFile(ctx, path)
			switch {
			case err == nil:
				before, ok = b, true
			case !errors.Is(err, fs.ErrNotExist):
				return nil, &Error{Code: Internal, Msg: fmt.Sprintf("reading %s failed", path), Err: err}
			}
		}
		switch {
		case content == nil && !ok:
			continue
		case content == nil:
			out = append(out, FileChange{Path: path, Delete: true, Before: before})
		case ok && bytes.Equal(before, content):
			continue
		default:
			out = append(out, FileChange{Path: path, Content: content, Before: before})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Path < out[b].Path })
	return out, nil
}

// patchedFiles returns the overlay's kustomization with the daytwo patch file registered,
// and the patch file after fn edited it.
func (j *job) patchedFiles(ctx context.Context, fn func(patch []byte) ([]byte, error)) (map[string][]byte, error) {
	patchPath := path.Join(j.dir, PatchFile)
	current, _ := j.tree.File(patchPath)
	if current == nil {
		// The file may exist without being referenced yet; keep what it holds.
		if b, err := j.snap.ReadFile(ctx, patchPath); err == nil {
			current = b
		}
	}
	patch, err := fn(current)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("cannot edit %s: %s", patchPath, clipMessage(err.Error())), Err: err}
	}
	kust, err := overlay.EnsurePatch(j.kust, PatchFile)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("cannot add %s to %s: %s", PatchFile, j.kustPath, clipMessage(err.Error())), Err: err}
	}
	return map[string][]byte{patchPath: patch, j.kustPath: kust}, nil
}

// editKust applies fn to a version of the overlay's kustomization, wrapping its error.
func (j *job) editKust(kust []byte, what string, fn func([]byte) ([]byte, error)) ([]byte, error) {
	out, err := fn(kust)
	if err != nil {
		return nil, &Error{Code: Broken, Msg: fmt.Sprintf("cannot %s in %s: %s", what, j.kustPath, clipMessage(err.Error())), Err: err}
	}
	return out, nil
}

// suspects names the files of the overlay's own directory, other than its kustomization
// and daytwo's patch, that mention every word: what runs after the kustomization's own
// fields (its transformers and replacements) is configured there, bases run before.
func (j *job) suspects(words ...string) string {
	prefix := strings.TrimSuffix(j.dir, "/") + "/"
	var out []string
	for _, p := range j.tree.Paths() {
		if !strings.HasPrefix(p, prefix) || p == j.kustPath || p == prefix+PatchFile {
			continue
		}
		b, _ := j.tree.File(p)
		all := true
		for _, w := range words {
			if !bytes.Contains(b, []byte(w)) {
				all = false
				break
			}
		}
		if all {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return "a transformer or replacement later in the build overrides it"
	}
	return "overridden by " + strings.Join(out, ", ")
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// clipMessage keeps user-facing messages readable when krusty reports a whole document.
func clipMessage(s string) string { return clip.Bytes(s, 1500, " …") }
