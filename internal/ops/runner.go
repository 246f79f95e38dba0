// Package ops carries out day-2 commands asked for on GitHub. For each command it finds the
// GitOps repository and its config (default branch only), checks that the requester may
// ask, plans the change, opens or reuses the pull request with code-owner reviewers, and keeps
// one status comment in the asking thread up to date until the PR is merged or closed.
//
// A request enters through Runner.Answer (runner.go), which runs each of its commands on
// the target it reads; change.go checks who asked, plans and writes a change; status.go is
// the status comment and the 👀 reaction; stack.go reads what a pull request carries from
// its commits.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/ai"
	"github.com/daytwo-dev/daytwo/internal/argoapi"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/coord"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/incident"
	"github.com/daytwo-dev/daytwo/internal/plan"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
)

// Runner carries out the commands of requests, and follows the pull requests they open.
type Runner struct {
	Clients githubapp.ClientCreator
	// Commands are the commands daytwo answers; a config's requesters keys name them.
	Commands *command.Registry
	Planner  *plan.Planner
	Now      func() time.Time
	// GraphQLURL is the GraphQL endpoint (github.v4_api_url); "" derives it from the REST URL.
	GraphQLURL string
	// ArgoCD, when set, is asked to refresh after a merge, and the rollout is reported.
	ArgoCD ArgoCD
	// AI, when set, writes /ask's answers from the facts; nil is AI off.
	AI *ai.Client
	// RefreshEvery paces further refreshes until Argo CD has seen the merge (default 5s).
	RefreshEvery time.Duration
	// Incidents tunes the incident issues the leader writes (incident.go).
	Incidents IncidentOptions
	// Summarize, when set, writes an incident issue's optional summary from the facts
	// daytwo gathered; nil leaves it out, and so does an error.
	Summarize func(ctx context.Context, facts []incident.Fact) (string, error)

	rollouts sync.WaitGroup

	discoveredMu sync.Mutex
	discovered   map[string]*repoconfig.Config // repo@commit → config made by discovery
	lifeOnce     sync.Once
	life         context.Context
	endLife      context.CancelFunc

	// Locks serialise the commands for one target (repo, service, env): in this process by
	// default, across replicas with Redis.
	Locks    coord.Locker
	embedded coord.Embedded

	workflows runIndex // what /run knows in this process (run.go)

	// DashboardEvery is how often, at most, a repository's dashboard is rewritten after
	// changes, merges and rollouts (DefaultDashboardEvery when 0); DashboardAfter schedules
	// those writes (time.AfterFunc when nil), for tests.
	DashboardEvery time.Duration
	DashboardAfter func(d time.Duration, f func()) (stop func() bool)
	dashOnce       sync.Once
	dash           *coalescer
}

// New builds the runner a server configuration describes: GitHub through c, the commands
// of cmds, and Argo CD when one is configured. now is the clock (nil: the real one).
func New(cfg *config.Config, c githubapp.ClientCreator, cmds *command.Registry, now func() time.Time) (*Runner, error) {
	r := &Runner{Clients: c, Commands: cmds, Planner: plan.New(), Now: now, GraphQLURL: cfg.GitHub.V4APIURL,
		Incidents: IncidentOptions{Grace: time.Duration(cfg.Incidents.Grace), Settle: time.Duration(cfg.Incidents.Settle)}}
	if a := cfg.ArgoCD; a.Enabled() {
		client, err := argoapi.New(argoapi.Options{
			Server: a.Server, Token: a.Token, PlainText: a.PlainText, Insecure: a.Insecure, CAFile: a.CAFile,
			GRPCWeb: a.GRPCWeb, GRPCWebRootPath: a.GRPCWebRootPath, AppNamespace: a.AppNamespace,
		})
		if err != nil {
			return nil, err
		}
		r.ArgoCD = client
	}
	aic, err := ai.New(cfg.AI, func(line string) error { _, err := cmds.ParseLine(line); return err })
	if err != nil {
		return nil, err
	}
	r.AI = aic.WithVerbs(aiVerbs...)
	if r.AI != nil {
		r.Summarize = r.summarizeIncident
	}
	return r, nil
}

// summarizeIncident has the AI endpoint write an incident issue's summary from its facts
// alone; the commands it suggests were checked to parse, and are only named.
func (r *Runner) summarizeIncident(ctx context.Context, facts []incident.Fact) (string, error) {
	in := make([]ai.Fact, len(facts))
	for i, f := range facts {
		in[i] = ai.Fact{Title: f.Title, Lines: f.Lines}
	}
	ans, err := r.AI.Summarize(ctx, "an Argo CD application that stays unhealthy", in)
	if err != nil {
		return "", err
	}
	text := strings.TrimSpace(ans.Text)
	if len(ans.Commands) > 0 {
		text += "\n\nIt suggests replying: " + strings.Join(ans.Commands, ", ")
	}
	return text, nil
}

// Request is a comment or an issue body that holds commands, whatever event carried it:
// issue comments, PR comments and issue-form submissions all meet in this type.
type Request struct {
	InstallationID int64
	Owner, Repo    string
	Number         int   // issue or PR number (they share one sequence)
	IsPR           bool  // the thread is a pull request
	CommentID      int64 // 0 when the request is the issue body itself
	Author         string
	AuthorType     string // "User", "Bot", "Organization"
	Association    string // author_association: a pre-filter only, never authority
	Body           string
	Labels         []string
	URL            string // html_url of the comment or issue: the origin to link back to
	DeliveryID     string
	// GraphQL node ids of the thread (issue or pull request) and of the asking comment.
	ThreadNodeID, CommentNodeID string
	// Index is the command's place among the commands of the text (1-based): with the
	// comment it identifies the request, however often it is delivered.
	Index int
	// Tick is the delivery id of the dashboard edit that ticked the boxes the request
	// runs, "" for any other request: each edit is a request of its own.
	Tick string
	// Restores, on a request daytwo makes itself when a time-boxed change expires, is the
	// pull request (owner/name#number) that merged the change; Key is then its identity.
	Restores, Key string
	expiry        *expiry // the restored change, checked again under the target's lock
}

// Asked is one command of a text, at its place among the text's commands (1-based).
type Asked struct {
	Index   int
	Command command.Command
}

// Reply is the one answer to the parts of a text that are not carried out: help, and
// usage errors (then Refused).
type Reply struct {
	Body    string // markdown; "" when there is nothing to say
	Refused bool
}

// ID identifies one command of a comment or issue body: the same text delivered again,
// under any delivery id, is the same request; another comment is another request.
func (r Request) ID() string {
	if r.Key != "" {
		return r.Key
	}
	src := "body"
	if r.Tick != "" {
		src = "tick-" + r.Tick
	} else if r.CommentID != 0 {
		src = fmt.Sprintf("comment-%d", r.CommentID)
	}
	return fmt.Sprintf("%s#%d/%s/%d", r.FullRepo(), r.Number, src, max(r.Index, 1))
}

// ReplyID identifies the one reply to the parts of the text that are not carried out
// (help, usage errors).
func (r Request) ReplyID() string {
	id := r.ID()
	return id[:strings.LastIndexByte(id, '/')] + "/reply"
}

// FullRepo is "owner/name".
func (r Request) FullRepo() string { return r.Owner + "/" + r.Repo }

// FromBot reports whether a bot wrote it: daytwo's own replies and every other app.
func (r Request) FromBot() bool {
	return r.AuthorType == "Bot" || strings.HasSuffix(r.Author, "[bot]")
}

// target is the GitOps repository a request acts on, read at its default branch.
type target struct {
	repo    githubapi.Repo
	g       *githubapi.GraphQL
	read    *githubapi.DefaultRead // head, open pull requests, node id
	head    githubapi.Head
	snap    *githubapi.Snapshot
	cfg     *repoconfig.Config
	cfgFile []byte
}

// Answer carries out the commands asked in req's text, one after the other, each on a
// status comment of its own, and then posts reply, the answer to the rest of the text.
// The first comment posted reacts 👀 to the text. It fails only when it could not tell the
// asker anything: the delivery is then worth another attempt.
func (r *Runner) Answer(ctx context.Context, client *gh.Client, req Request, asked []Asked, reply Reply) error {
	thread := githubapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}
	eyes := newReaction(ctx, thread, req)
	defer eyes.wait()
	var errs []error
	for _, a := range asked {
		req.Index = a.Index
		zerolog.Ctx(ctx).Info().Str("command", a.Command.Name).Msg("running command")
		errs = append(errs, r.run(ctx, client, req, a.Command, eyes))
	}
	if reply.Body != "" {
		errs = append(errs, r.reply(ctx, client, req, reply, eyes))
	}
	return errors.Join(errs...)
}

// reply posts the answer to the parts of a request that are not carried out, once per
// request: a repeat finds the reply it got before.
func (r *Runner) reply(ctx context.Context, client *gh.Client, req Request, reply Reply, eyes *reaction) error {
	state := githubapi.StateAnswered
	if reply.Refused {
		state = githubapi.StateRefused
	}
	s := &statusComment{thread: githubapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number},
		head: strings.TrimRight(reply.Body, "\n"), mark: githubapi.StatusMark{Request: req.ReplyID(), State: state}}
	_, _, err := postStatus(ctx, r.graphql(client), req, eyes, s, "")
	return err
}

// maxAttempts bounds how often a request is planned again after losing a race for its
// target's branch (another replica, or a merge, moved it).
const maxAttempts = 6

// run carries out cmd; everything it has to say goes to its status comment.
//
// A mutating command costs six requests to GitHub in the usual case: the status comment
// with the 👀 reaction, in parallel with one read of the default branch (head, config,
// CODEOWNERS, open pull requests and their commits) and the requester's permission; one
// read ahead of the overlay (files, label and reviewer ids); one mutation writing the
// commit (with branch and pull request for a target's first change); one adding labels,
// reviewers, the render check and the PR link to the status.
func (r *Runner) run(ctx context.Context, client *gh.Client, req Request, cmd command.Command, eyes *reaction) error {
	_, err := r.runCommand(ctx, client, req, cmd, eyes)
	return err
}

// runCommand is run, returning the status comment as it ended (nil when none was posted).
func (r *Runner) runCommand(ctx context.Context, client *gh.Client, req Request, cmd command.Command, eyes *reaction) (*statusComment, error) {
	log := zerolog.Ctx(ctx).With().Str("command", cmd.Name).Str("request", req.ID()).Logger()
	ctx = log.WithContext(ctx)
	thread := githubapi.Thread{Client: client, Owner: req.Owner, Repo: req.Repo, Number: req.Number}
	g := r.graphql(client)
	// Anything but a change of a service or an environment is answered on the status
	// comment alone: the read-only commands, /cancel, /init, and what acts outside Git.
	if spec, _ := r.Commands.Lookup(cmd.Name); !spec.Mutating || spec.Repository || spec.External {
		now := "⏳ Reading…"
		switch cmd.Name {
		case "cancel":
			now = "⏳ Looking for the change to cancel…"
		case "extend":
			now = "⏳ Looking for the time-boxed change to extend…"
		case "init", "new-service":
			now = "⏳ Reading the repository and rendering its overlays…"
		case "run":
			now = "⏳ Reading the workflow…"
		}
		st, repeat, err := startStatus(ctx, thread, g, req, eyes, cmd.Line, now)
		switch {
		case err != nil:
			return nil, fmt.Errorf("post the status comment: %w", err)
		case repeat && st.done():
			log.Info().Msg("answered before, or being answered")
		case cmd.Name == "cancel":
			r.cancel(ctx, client, req, st)
		case cmd.Name == "dashboard":
			r.dashboardCommand(ctx, client, req, st)
		case cmd.Name == "extend":
			r.extend(ctx, client, req, cmd, st)
		case cmd.Name == "init":
			r.onboard(ctx, client, req, cmd, st)
		case cmd.Name == "new-service":
			r.newService(ctx, client, req, cmd, st)
		case cmd.Name == "run":
			r.runWorkflow(ctx, client, req, cmd, st)
		case cmd.Name == "ask":
			r.ask(ctx, client, req, cmd, st)
		case cmd.Name == "sync" || cmd.Name == "refresh":
			r.argoCommand(ctx, client, req, cmd, st)
		default:
			r.view(ctx, client, req, cmd, st)
		}
		return st, nil
	}

	// The status comment is posted while the GitOps repository is read.
	var (
		st     *statusComment
		repeat bool
		stErr  error
	)
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		st, repeat, stErr = startStatus(ctx, thread, g, req, eyes, cmd.Line, "⏳ Planning the change…")
	}()
	t, err := r.target(ctx, client, g, req.Owner, req.Repo)
	<-posted
	if stErr != nil {
		return nil, fmt.Errorf("post the status comment: %w", stErr)
	}
	if repeat && st.done() {
		if st.mark.State == githubapi.StateOpen && err == nil {
			// Its PR may have been merged or closed by a replica that stopped before
			// saying so: finish that.
			r.settleOpen(ctx, t.repo, st)
		}
		log.Info().Str("state", st.mark.State).Msg("answered before, or being answered by another delivery; nothing left to do")
		return st, nil
	}
	// A bug must not leave the requester looking at "Planning…" forever: say so, then let
	// the server's recovery count and log the panic.
	defer func() {
		if p := recover(); p != nil {
			st.fail(context.WithoutCancel(ctx), githubapi.StateFailed, "daytwo hit an internal error (logged) and stopped; nothing was merged. Tell the platform team.")
			panic(p)
		}
	}()
	if err != nil {
		st.failWith(ctx, err)
		return st, nil
	}
	// A conflict (the branch moved under the change) is planned again from a fresh read.
	withdrawn := map[int]bool{} // PRs of this request daytwo closed itself
	for attempt := 1; ; attempt++ {
		err = r.change(ctx, st, t, req, cmd, attempt > 1, withdrawn)
		var w *githubapi.WithdrawnError
		if errors.As(err, &w) {
			withdrawn[w.PR] = true
		}
		if plan.ErrorCode(err) != plan.Conflict || attempt == maxAttempts {
			break
		}
		log.Info().Err(err).Int("attempt", attempt).Msg("conflict; planning again")
		time.Sleep(time.Duration(attempt*attempt*20+rand.IntN(100)) * time.Millisecond)
		// What an earlier attempt wrote may have been merged, closed or overridden since,
		// and its asker told so: that is the answer, not a second change.
		if cur, cerr := resumeStatus(ctx, st.thread, st.id); cerr == nil && cur.mark.Final() {
			log.Info().Str("state", cur.mark.State).Msg("the request reached its end meanwhile")
			return cur, nil
		}
		if t, err = r.target(ctx, client, g, req.Owner, req.Repo); err != nil {
			break
		}
	}
	if err != nil {
		switch {
		case errors.Is(err, githubapi.ErrNoAnswer):
			err = &plan.Error{Code: plan.Conflict, Msg: "GitHub did not answer daytwo's last write, after several tries, and daytwo could not confirm it. If a daytwo pull request for this service and environment lists this request, it carries it; otherwise ask again.", Err: err}
		case plan.ErrorCode(err) == plan.Conflict:
			err = &plan.Error{Code: plan.Conflict, Msg: "Other changes to the same service and environment kept moving its pull request while daytwo planned this one; nothing of it was written. Ask again.", Err: err}
		}
		st.failWith(ctx, err)
	}
	return st, nil
}

func (r *Runner) locks() coord.Locker {
	if r.Locks != nil {
		return r.Locks
	}
	return &r.embedded
}

func (r *Runner) graphql(client *gh.Client) *githubapi.GraphQL {
	return githubapi.NewGraphQL(client, r.GraphQLURL)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// target locates the GitOps repository: the repository the request came from when it has a
// daytwo config, or the one its pointer (`gitops: owner/name`) names, reached through that
// repository's own installation. The GitOps config is the authority: it must map the asking
// repository to a service.
func (r *Runner) target(ctx context.Context, client *gh.Client, g *githubapi.GraphQL, owner, name string) (*target, error) {
	t, pointer, err := r.readTarget(ctx, client, g, owner, name)
	if err != nil || pointer == "" {
		return t, err
	}
	gOwner, gName, _ := strings.Cut(pointer, "/")
	gclient, err := r.clientFor(ctx, gOwner, gName)
	if err != nil {
		return nil, plan.Errorf(plan.NotFound, "%s/%s points at %s, but daytwo cannot reach it (%v): install the app there too.", owner, name, pointer, err)
	}
	t, again, err := r.readTarget(ctx, gclient, r.graphql(gclient), gOwner, gName)
	if err != nil {
		return nil, err
	}
	if again != "" {
		return nil, plan.Errorf(plan.Invalid, "%s points at %s, which points further at %s; point at the GitOps repository itself.", owner+"/"+name, pointer, again)
	}
	asking := owner + "/" + name
	if !slices.ContainsFunc(t.cfg.Services, func(s repoconfig.Service) bool { return strings.EqualFold(s.Repository, asking) }) {
		return nil, plan.Errorf(plan.Forbidden, "%s does not list %s as the repository of any service (`repository:` in `%s`), so commands asked here are not carried out.", pointer, asking, repoconfig.Path)
	}
	return t, nil
}

// readTarget reads a repository's daytwo config at its default branch; a pointer comes
// back as the repository it names.
func (r *Runner) readTarget(ctx context.Context, client *gh.Client, g *githubapi.GraphQL, owner, name string) (*target, string, error) {
	repo := githubapi.Repo{Client: client, Owner: owner, Name: name}
	read, err := repo.ReadDefault(ctx, g, append([]string{repoconfig.Path}, githubapi.CodeOwnersPaths...))
	if err != nil {
		return nil, "", err
	}
	head, snap := read.Head, read.Snap
	data, err := snap.ReadFile(ctx, repoconfig.Path)
	if errors.Is(err, fs.ErrNotExist) {
		cfg, derr := r.discover(ctx, repo, g, snap)
		if derr != nil {
			return nil, "", plan.Errorf(plan.NotFound, "%s has no `%s` on its default branch `%s`, and daytwo cannot tell its services and environments from its Argo CD manifests (%v). Write the config: see the configuration reference (docs/config.md).", repo.FullName(), repoconfig.Path, head.Branch, derr)
		}
		return &target{repo: repo, g: g, read: read, head: head, snap: snap, cfg: cfg}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	if pointer, ok, err := repoconfig.ParsePointer(data); ok {
		if err != nil {
			return nil, "", plan.Errorf(plan.Invalid, "%v", err)
		}
		return nil, pointer, nil
	}
	cfg, err := repoconfig.Load(data, r.Commands)
	if err != nil {
		return nil, "", plan.Errorf(plan.Invalid, "`%s` on `%s` is not valid: %v", repoconfig.Path, head.Branch, err)
	}
	return &target{repo: repo, g: g, read: read, head: head, snap: snap, cfg: cfg, cfgFile: data}, "", nil
}

// userMessage turns an error into what the requester reads; internal details go to the log.
func userMessage(ctx context.Context, err error) string {
	var pe *plan.Error
	if errors.As(err, &pe) && pe.Code != plan.Internal {
		return pe.Msg
	}
	var rl *githubapi.RateLimitedError
	if errors.As(err, &rl) {
		return "GitHub's rate limit for this app is used up until " + rl.Until.UTC().Format("15:04 MST") + "; ask again after that."
	}
	zerolog.Ctx(ctx).Error().Err(err).Msg("command failed")
	return "Something went wrong on daytwo's side (logged); nothing was changed. Try again, and tell the platform team if it persists."
}
