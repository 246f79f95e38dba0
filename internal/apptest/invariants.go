package apptest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubtest"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// The final-state checker shared by the property test (internal/ops) and the chaos test
// (test/chaos): given the commands a test asked for, each in its own comment, it reads
// GitHub's final state and lists every way it breaks daytwo's contract.

// Cmd is one command of a run, in its own comment.
type Cmd struct {
	Kind         string // config, scale, image or cancel
	Service, Env string // "" for cancel
	Value        string // K7=v7, 4, 9.7.0
	Author, Line string
	Issue        int
	Comment      int64
	Refuse       string // why policy must refuse it, if it must
}

// Target is "<env>/<service>".
func (c Cmd) Target() string { return c.Env + "/" + c.Service }

func (c Cmd) String() string {
	return fmt.Sprintf("#%d comment %d (%s) %q", c.Issue, c.Comment, c.Author, c.Line)
}

// Mark is the hidden line of a status comment, `<!-- daytwo-status: {...} -->`, read as
// anyone outside daytwo reads it.
type Mark struct {
	Request string `json:"request"`
	State   string `json:"state"`
	PR      int    `json:"pr"`
	By      string `json:"by"`
	// Body is the status comment's text.
	Body string `json:"-"`
}

var markRE = regexp.MustCompile(`<!-- daytwo-status: (\{.*?\}) -->`)

// StatusMarks are the marks of the bot's comments in the asking issues, by request ("" collects
// the ones that do not parse, their State saying why). A request with two entries was
// answered in two comments.
func StatusMarks(gh *githubtest.Server, repo *githubtest.Repo, issues []int) map[string][]Mark {
	out := map[string][]Mark{}
	for _, n := range issues {
		for _, c := range repo.Comments(n) {
			if c.User != gh.BotLogin() {
				continue
			}
			for _, m := range markRE.FindAllStringSubmatch(c.Body, -1) {
				pm := Mark{Body: c.Body}
				if err := json.Unmarshal([]byte(m[1]), &pm); err != nil {
					out[""] = append(out[""], Mark{State: fmt.Sprintf("comment %d: %v", c.ID, err)})
					continue
				}
				out[pm.Request] = append(out[pm.Request], pm)
			}
		}
	}
	return out
}

// AnyWorking reports whether a status in the issues still says working.
func AnyWorking(gh *githubtest.Server, repo *githubtest.Repo, issues []int) bool {
	for _, ms := range StatusMarks(gh, repo, issues) {
		for _, m := range ms {
			if m.State == "working" {
				return true
			}
		}
	}
	return false
}

// RequestComment is the comment id a request id names (…/comment-<id>/<n>), 0 if none.
func RequestComment(request string) int64 {
	_, rest, ok := strings.Cut(request, "/comment-")
	if !ok {
		return 0
	}
	id, _, _ := strings.Cut(rest, "/")
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// Outcome is what CheckFinalState found.
type Outcome struct {
	Commands int
	States   map[string]int // final state → commands
	// Unanswered commands have no status comment; Lost ones are neither carried out nor
	// answered why not: no status, still working, or said to be in a PR that lacks them.
	Unanswered, Lost int
	// ManyStatuses are commands answered in more than one status comment; Twice are requests
	// carried out more than once (their Daytwo-Request trailer seen twice).
	ManyStatuses, Twice int
	// DuplicateOpen are targets with more than one open PR; Orphans are daytwo/* branches
	// without an open PR.
	DuplicateOpen, Orphans int
	OpenPRs, PRs           int
	Violations             []string
}

func (o Outcome) String() string {
	var sum []string
	for _, k := range slices.Sorted(maps.Keys(o.States)) {
		sum = append(sum, fmt.Sprintf("%d %s", o.States[k], k))
	}
	if len(sum) == 0 {
		sum = []string{"no status"}
	}
	return fmt.Sprintf("%d commands: %s; %d unanswered, %d lost; %d with several status comments, %d acted on twice; "+
		"%d targets with several open PRs, %d orphan branches; %d open PRs, %d PRs in all; %d violations",
		o.Commands, strings.Join(sum, ", "), o.Unanswered, o.Lost, o.ManyStatuses, o.Twice,
		o.DuplicateOpen, o.Orphans, o.OpenPRs, o.PRs, len(o.Violations))
}

// CheckFinalState checks the invariants on repo once daytwo is done with cmds, asked in
// issues, and returns every violation, each starting with the invariant it breaks:
//
//	a: every command has exactly one status comment, in a final state;
//	b: a change said to be in a PR is linked from its status and in the render of the PR's
//	   head (c: merged config on main);
//	c: the PR a status names is in the state the status says;
//	d: one open PR per target, each carrying a request in state open; no daytwo/* branch
//	   without an open PR;
//	e: a request open in a PR is in its target's open PR;
//	f: no request carried out twice: its Daytwo-Request trailer appears once at most in
//	   main's history and the open PRs' own commits.
func CheckFinalState(gh *githubtest.Server, repo *githubtest.Repo, cmds []Cmd, issues []int) Outcome {
	o := Outcome{Commands: len(cmds), States: map[string]int{}}
	badf := func(format string, args ...any) { o.Violations = append(o.Violations, fmt.Sprintf(format, args...)) }
	ctx := context.Background()
	cfgFile, _ := repo.File("main", repoconfig.Path)
	cfg, err := repoconfig.Load([]byte(cfgFile), command.All())
	if err != nil {
		badf("config on main: %v", err)
		return o
	}
	pulls := map[int]githubtest.Pull{}
	openFor := map[string][]githubtest.Pull{} // target → open daytwo PRs
	landed := map[string][]githubtest.Pull{}  // target → its open and merged PRs
	heads := map[string]bool{}
	for _, p := range repo.Pulls() {
		pulls[p.Number] = p
		tg, ok := pullTarget(p.Head)
		if !ok || p.State != "open" && !p.Merged {
			continue
		}
		landed[tg] = append(landed[tg], p)
		if p.State == "open" {
			openFor[tg] = append(openFor[tg], p)
			heads[p.Head] = true
		}
	}
	o.PRs = len(pulls)
	mainSHA, _ := repo.BranchSHA("main")

	// Renders are cached by commit and target: many statuses name the same PR.
	renders := map[string]*report.Desired{}
	render := func(sha string, c Cmd) *report.Desired {
		key := sha + " " + c.Target()
		if d, ok := renders[key]; ok {
			return d
		}
		d, err := report.ReadDesired(ctx, cfg, snapshot{sha: sha, files: repo.Files(sha)}, c.Service, c.Env)
		if err != nil {
			badf("rendering %s at %.7s: %v", c.Target(), sha, err)
		}
		renders[key] = d
		return d
	}

	byRequest := StatusMarks(gh, repo, issues)
	for _, m := range byRequest[""] {
		badf("unparsable status marker in %s", m.State)
	}
	statuses := make([][]Mark, len(cmds))
	requestOf := map[string]Cmd{}
	for i, c := range cmds {
		for id, ms := range byRequest {
			if id != "" && RequestComment(id) == c.Comment {
				statuses[i] = append(statuses[i], ms...)
				requestOf[id] = c
			}
		}
	}

	for i, c := range cmds {
		// a. one status each, finished.
		ms := statuses[i]
		if len(ms) != 1 {
			badf("a: %s has %d status comments, want 1", c, len(ms))
			if len(ms) == 0 {
				o.Unanswered++
				o.Lost++
				continue
			}
			o.ManyStatuses++
		}
		s := ms[0]
		o.States[s.State]++
		if s.State == "working" {
			badf("a: %s is still working", c)
			o.Lost++
			continue
		}
		if c.Kind == "cancel" {
			if s.PR != 0 {
				checkPullState(badf, c, s, pulls)
			}
			continue
		}
		if c.Refuse != "" && s.State != "refused" && s.State != "failed" {
			badf("%s is %s, but must be refused: %s", c, s.State, c.Refuse)
		}
		switch s.State {
		case "open", "merged", "closed":
			if !checkPullState(badf, c, s, pulls) {
				if s.State != "closed" {
					o.Lost++
				}
				continue
			}
			p := pulls[s.PR]
			if tg, _ := pullTarget(p.Head); tg != c.Target() {
				badf("%s: %s in PR #%d, whose branch %s is for another target", c, s.State, s.PR, p.Head)
				continue
			}
			// b. the status links its PR, and the change is in the rendered head of that PR
			// (and, merged config, on main).
			if s.State != "closed" && !linksPull(s.Body, s.PR) {
				badf("b: %s is %s in PR #%d, but its status comment does not link the PR", c, s.State, s.PR)
			}
			if s.State != "closed" {
				if d := render(p.HeadSHA, c); d != nil && !hasEffect(cfg, d, c) {
					badf("b: %s is %s in PR #%d, but its head %.7s renders without it", c, s.State, s.PR, p.HeadSHA)
					o.Lost++
				}
			}
			if s.State == "merged" && c.Kind == "config" {
				if d := render(mainSHA, c); d != nil && !hasEffect(cfg, d, c) {
					badf("c: %s is merged in PR #%d, but main renders without it", c, s.PR)
					o.Lost++
				}
			}
			// e. and that PR is the target's open one.
			if open := openFor[c.Target()]; s.State == "open" && len(open) == 1 && open[0].Number != s.PR {
				badf("e: %s is open in PR #%d, but %s's open PR is #%d", c, s.PR, c.Target(), open[0].Number)
			}
		case "overridden":
			// By names a request setting the same field of the same target (the last writer
			// may have set it back to this value).
			by, ok := requestOf[s.By]
			switch {
			case c.Kind == "config":
				badf("%s is overridden (by %q), but no other command sets its key", c, s.By)
			case s.By == "":
			case !ok:
				badf("%s is overridden by %q, not a request of this run", c, s.By)
			case by.Kind != c.Kind || by.Target() != c.Target() || by.Comment == c.Comment:
				badf("%s is overridden by %s, which does not set its field", c, by)
			}
		case "refused", "failed":
		default:
			badf("a: %s has state %q, not one a change ends in", c, s.State)
		}
		// A unique key or tag that was not carried out is nowhere: not on main, not in a PR.
		if (s.State == "closed" || s.State == "refused" || s.State == "failed") && c.Kind != "scale" {
			var with []string
			if d := render(mainSHA, c); d != nil && hasEffect(cfg, d, c) {
				with = append(with, "main")
			}
			for _, p := range landed[c.Target()] {
				if d := render(p.HeadSHA, c); d != nil && hasEffect(cfg, d, c) {
					with = append(with, fmt.Sprintf("PR #%d (%s)", p.Number, pullState(p)))
				}
			}
			if len(with) > 0 {
				badf("%s is %s, but it is in %s", c, s.State, strings.Join(with, ", "))
			}
		}
	}

	// d. one open PR per target, each carrying a request in state open, and no daytwo
	// branch without an open PR.
	named := map[int]bool{}
	for _, ms := range byRequest {
		for _, s := range ms {
			if s.State == "open" {
				named[s.PR] = true
			}
		}
	}
	for _, tg := range slices.Sorted(maps.Keys(openFor)) {
		ps := openFor[tg]
		o.OpenPRs += len(ps)
		if len(ps) > 1 {
			var ns []string
			for _, p := range ps {
				ns = append(ns, "#"+strconv.Itoa(p.Number))
			}
			badf("d: %s has %d open PRs: %s", tg, len(ps), strings.Join(ns, " "))
			o.DuplicateOpen++
		}
		for _, p := range ps {
			if !named[p.Number] {
				badf("d: open PR #%d (%s) carries no request in state open", p.Number, p.Head)
			}
		}
	}
	for _, b := range repo.Branches() {
		if !strings.HasPrefix(b, "daytwo/") || heads[b] {
			continue
		}
		// What the branch is left from: its PRs, and the requests its head commit carries.
		var about []string
		for _, n := range slices.Sorted(maps.Keys(pulls)) {
			if p := pulls[n]; p.Head == b {
				about = append(about, fmt.Sprintf("PR #%d is %s", n, pullState(p)))
			}
		}
		if sha, ok := repo.BranchSHA(b); ok {
			if c, ok := repo.GetCommit(sha); ok {
				for _, r := range trailers(c.Message, plan.TrailerRequest) {
					about = append(about, "its head "+sha[:7]+" carries "+r)
				}
			}
		}
		if len(about) == 0 {
			about = []string{"no PR ever"}
		}
		badf("d: branch %s has no open PR (%s)", b, strings.Join(about, "; "))
		o.Orphans++
	}

	// f. each request carried out once: main's history (a squash keeps every request's
	// trailers) and the commits each open PR adds to it name a request once at most.
	where := map[string][]string{}
	inMain := map[string]bool{}
	for _, c := range repo.History(mainSHA) {
		inMain[c.SHA] = true
		for _, r := range trailers(c.Message, plan.TrailerRequest) {
			where[r] = append(where[r], fmt.Sprintf("main %.7s", c.SHA))
		}
	}
	for _, tg := range slices.Sorted(maps.Keys(openFor)) {
		for _, p := range openFor[tg] {
			for _, c := range repo.History(p.HeadSHA) {
				if inMain[c.SHA] {
					break
				}
				for _, r := range trailers(c.Message, plan.TrailerRequest) {
					where[r] = append(where[r], fmt.Sprintf("PR #%d %.7s", p.Number, c.SHA))
				}
			}
		}
	}
	for _, r := range slices.Sorted(maps.Keys(where)) {
		if len(where[r]) > 1 {
			who := r
			if c, ok := requestOf[r]; ok {
				who = c.String() + " (" + r + ")"
			}
			badf("f: %s is carried out %d times: %s", who, len(where[r]), strings.Join(where[r], ", "))
			o.Twice++
		}
	}
	return o
}

// linksPull reports whether a status comment's text links pull request n (a markdown link
// or a bare address GitHub makes a link of).
func linksPull(body string, n int) bool {
	return regexp.MustCompile(`https?://\S+/pull/` + strconv.Itoa(n) + `\b`).MatchString(body)
}

// trailers are the values of a commit message's key: lines (a squash of several requests
// holds one trailer block each).
func trailers(message, key string) []string {
	var out []string
	for _, line := range strings.Split(message, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// checkPullState checks c. that the PR a status names is in the state it says.
func checkPullState(badf func(string, ...any), c Cmd, s Mark, pulls map[int]githubtest.Pull) bool {
	p, ok := pulls[s.PR]
	switch {
	case !ok:
		badf("c: %s is %s in PR #%d, which does not exist", c, s.State, s.PR)
	case s.State == "open" && p.State != "open",
		s.State == "merged" && !p.Merged,
		s.State == "closed" && (p.State != "closed" || p.Merged):
		badf("c: %s is %s in PR #%d, which is %s", c, s.State, s.PR, pullState(p))
	default:
		return true
	}
	return false
}

func pullState(p githubtest.Pull) string {
	if p.Merged {
		return "merged"
	}
	return p.State
}

// pullTarget is "<env>/<service>" of a daytwo branch daytwo/<env>/<service>/….
func pullTarget(branch string) (string, bool) {
	parts := strings.SplitN(branch, "/", 4)
	if len(parts) < 4 || parts[0] != "daytwo" {
		return "", false
	}
	return parts[1] + "/" + parts[2], true
}

// hasEffect reports whether the render shows what c asked for, naming the service's
// ConfigMap, workload and image as the repository's config does.
func hasEffect(cfg *repoconfig.Config, d *report.Desired, c Cmd) bool {
	configMap, workload, image := c.Service+"-config", c.Service, ""
	if svc, ok := cfg.Service(c.Service); ok {
		if svc.ConfigMap != "" {
			configMap = svc.ConfigMap
		}
		if svc.Workload.Name != "" {
			workload = svc.Workload.Name
		}
		image = svc.Image
	}
	switch c.Kind {
	case "config":
		k, v, _ := strings.Cut(c.Value, "=")
		got, ok := d.Config[configMap+"/"+k]
		return ok && got == v
	case "scale":
		for _, wl := range d.Workloads {
			if wl.Name == workload && wl.Replicas != nil && strconv.Itoa(*wl.Replicas) == c.Value {
				return true
			}
		}
	case "image":
		for _, ct := range d.Containers {
			if strings.HasSuffix(ct.Image, ":"+c.Value) && (image == "" || strings.HasPrefix(ct.Image, image+":")) {
				return true
			}
		}
	}
	return false
}

// snapshot is a commit's files, for report.ReadDesired (which renders with krusty in memory).
type snapshot struct {
	sha   string
	files map[string]string
}

func (s snapshot) Commit() string { return s.sha }

func (s snapshot) ReadFile(_ context.Context, p string) ([]byte, error) {
	if b, ok := s.files[path.Clean(p)]; ok {
		return []byte(b), nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (s snapshot) ReadDir(_ context.Context, p string) ([]string, error) {
	prefix := path.Clean(p) + "/"
	if prefix == "./" {
		prefix = ""
	}
	seen := map[string]bool{}
	for f := range s.files {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[:i+1]
			}
			seen[rest] = true
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
