// Package argoapitest is a fake Argo CD API server for tests: it implements argo-cd's own
// generated gRPC ApplicationService (and VersionService) on a real listener, so daytwo's
// real client talks to it over gRPC, plain or TLS, or over gRPC-web as argocd-server serves
// it (improbable-eng's grpcweb wrapper, HTTP/1.1 only, optionally under a root path). Each
// Application follows a script once a refresh finds a new Git revision (automated sync) or
// a sync is asked for: OutOfSync → Progressing → Healthy, or → Degraded, or a failed sync.
//
// Sync answers as argocd-server v2.14 does: the sync window, RBAC and automated-sync checks
// and errors, the revision resolved, one operation at a time ("another operation is
// already in progress" while app.operation is set), and the operation recorded as asked
// (prune, strategy, infos, who initiated it) in status.operationState. Tokens belong to
// accounts with RBAC permissions; a missing app answers "permission denied", as
// argocd-server does when the query names no project. The wording of these answers was
// checked against argocd-server itself (test/e2e). Dry runs are not modelled.
//
// Like Argo CD's controller, the fake keeps the app's status.health as its last assessment
// of the live health: a step assesses it (stamping health.lastTransitionTime when it
// changes, and status.reconciledAt when the step ends the operation, as the controller's
// reconcile after a sync does), a refresh assesses it too, and a Stale step leaves the
// previous verdict in place. Its times reach clients in whole seconds, as from a real one.
package argoapitest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/improbable-eng/grpc-web/go/grpcweb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Step is one state an app passes through, After the previous one.
type Step struct {
	After     time.Duration
	Sync      string // Synced, OutOfSync
	Health    string // Healthy, Progressing, Degraded, Missing
	Phase     string // operation phase: Running, Succeeded, Failed
	Message   string
	Unhealthy []Resource
	// Stale leaves status.health (and its resources) as the controller last assessed it:
	// Health and Unhealthy are the live state, which the next assessment finds.
	Stale bool
}

// Resource is an unhealthy resource a step reports.
type Resource struct{ Kind, Namespace, Name, Health, Message string }

// Healthy is the usual rollout: a sync runs, pods roll, the app is healthy.
func Healthy(step time.Duration) []Step {
	return []Step{
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Message: "syncing"},
		{After: step, Sync: "Synced", Health: "Progressing", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
		{After: step, Sync: "Synced", Health: "Healthy", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
	}
}

// Degraded is a rollout whose new pods never become ready.
func Degraded(step time.Duration, res ...Resource) []Step {
	return []Step{
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Message: "syncing"},
		{After: step, Sync: "Synced", Health: "Progressing", Phase: "Succeeded", Message: "successfully synced (all tasks run)"},
		{After: step, Sync: "Synced", Health: "Degraded", Phase: "Succeeded", Message: "successfully synced (all tasks run)", Unhealthy: res},
	}
}

// Failed is a sync that Argo CD cannot complete: applying an object fails.
func Failed(step time.Duration, message string) []Step {
	return []Step{
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Running", Message: "syncing"},
		{After: step, Sync: "OutOfSync", Health: "Healthy", Phase: "Failed", Message: message},
	}
}

// Call is one request the fake answered.
type Call struct {
	Method   string // Get, Refresh, Sync, Watch, Version
	App      string
	Revision string // of a Sync
	Refresh  string // of a Refresh: normal or hard
	// Sync is a Sync's request as received (unmarshalled for this call alone).
	Sync *application.ApplicationSyncRequest
	Sub  string // the account that asked
	At   time.Time
}

// account is who a token stands for: an Argo CD account's API token (argocd-server names
// the account as the subject) and what argocd-rbac-cm lets it do on applications.
type account struct {
	sub     string
	actions map[string]bool // get, sync, update, …; "*" for all
	iat     time.Time
}

func (a *account) may(action string) bool { return a.actions["*"] || a.actions[action] }

type accountKey struct{}

type app struct {
	obj    v1alpha1.Application
	target string // the Git revision the app should run
	script []Step
	// live is the health in the cluster, which an assessment copies into the status.
	live       health.HealthStatusCode
	liveRes    []v1alpha1.ResourceStatus
	unassessed bool // the controller's status processors do not get to the app
	run        int  // counts operations: a superseded script stops
}

// Server is the fake. Create it with New; it stops when the test ends.
type Server struct {
	application.UnimplementedApplicationServiceServer
	version.UnimplementedVersionServiceServer

	t      testing.TB
	addr   string
	opts   Options
	cert   tls.Certificate
	caFile string

	mu        sync.Mutex
	accounts  map[string]*account // by token
	windowed  bool                // a sync window blocks syncs
	apps      map[string]*app
	calls     []Call
	changed   chan struct{} // closed and replaced on every change, for watchers
	stop      func()        // stops the listener being served; nil while down
	watchDown bool
	delay     time.Duration
	head      func() string
}

// Options say how the fake serves, as argocd-server can be run.
type Options struct {
	// TLS serves with a certificate for 127.0.0.1 and localhost signed by a CA made for
	// the test, whose PEM file CAFile names.
	TLS bool
	// GRPCWeb serves gRPC-web only, over HTTP/1.1: argocd-server behind an ingress that
	// does not pass HTTP/2. A plain gRPC client is refused.
	GRPCWeb bool
	// RootPath serves gRPC-web under this path (argocd-server --rootpath).
	RootPath string
}

// New starts a fake Argo CD speaking plain-text gRPC on 127.0.0.1 accepting token, an API
// token of the account "daytwo" allowed everything. head says which Git revision a refresh
// finds (the GitOps repository's default branch in a test).
func New(t testing.TB, token string, head func() string) *Server {
	return NewWith(t, token, head, Options{})
}

// NewWith starts a fake Argo CD served as opts say.
func NewWith(t testing.TB, token string, head func() string, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, apps: map[string]*app{}, changed: make(chan struct{}), head: head, accounts: map[string]*account{}}
	s.AddAccount(token, "daytwo", "*")
	if opts.TLS {
		s.cert, s.caFile = certificate(t)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("argoapitest: %v", err)
	}
	s.addr = lis.Addr().String()
	s.serve(lis)
	t.Cleanup(s.Down)
	return s
}

func (s *Server) serve(lis net.Listener) {
	opts := []grpc.ServerOption{grpc.UnaryInterceptor(s.unary), grpc.StreamInterceptor(s.stream)}
	if s.opts.TLS && !s.opts.GRPCWeb {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{s.cert}})))
	}
	srv := grpc.NewServer(opts...)
	application.RegisterApplicationServiceServer(srv, s)
	version.RegisterVersionServiceServer(srv, s)
	stop := srv.Stop
	if s.opts.GRPCWeb {
		web := &http.Server{Handler: s.webHandler(grpcweb.WrapServer(srv)), ReadHeaderTimeout: 10 * time.Second,
			// No HTTP/2: the ingress this stands for passes HTTP/1.1 only.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
		if s.opts.TLS {
			lis = tls.NewListener(lis, &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{"http/1.1"}})
		}
		go func() { _ = web.Serve(lis) }()
		stop = func() { _ = web.Close(); srv.Stop() }
	} else {
		go func() { _ = srv.Serve(lis) }()
	}
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
}

// webHandler answers gRPC-web requests under the root path, as argocd-server does; anything
// else is not found.
func (s *Server) webHandler(web *grpcweb.WrappedGrpcServer) http.Handler {
	prefix := ""
	if root := strings.Trim(s.opts.RootPath, "/"); root != "" {
		prefix = "/" + root
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/") || !web.IsGrpcWebRequest(r) {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		web.ServeHTTP(w, r)
	})
}

// Addr is host:port of the listener.
func (s *Server) Addr() string { return s.addr }

// CAFile is the PEM file of the CA that signed a TLS fake's certificate.
func (s *Server) CAFile() string { return s.caFile }

// Down stops answering, as an Argo CD being restarted does.
func (s *Server) Down() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Up answers again on the same address. The port may be held a moment by another
// process's outgoing connection that the system gave it while the server was down.
func (s *Server) Up() {
	var lis net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if lis, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("argoapitest: listen again on %s: %v", s.addr, err)
	}
	s.serve(lis)
}

// certificate makes a CA and a server certificate it signs for 127.0.0.1 and localhost,
// and writes the CA's PEM to a file.
func certificate(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	fail := func(err error) {
		if err != nil {
			t.Fatalf("argoapitest: certificate: %v", err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "argoapitest CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	fail(err)
	ca, err = x509.ParseCertificate(caDER)
	fail(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fail(err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "argocd-server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	fail(err)
	file := filepath.Join(t.TempDir(), "argocd-ca.pem")
	fail(os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// AddAccount accepts token as an API token of the account name, which argocd-rbac-cm lets
// take only the actions given on applications ("get", "sync", "update"; "*" for all), as
// `p, <name>, applications, <action>, */*, allow` lines would.
func (s *Server) AddAccount(token, name string, actions ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &account{sub: name, actions: map[string]bool{}, iat: time.Now().Truncate(time.Second)}
	for _, act := range actions {
		a.actions[act] = true
	}
	s.accounts[token] = a
}

// BlockSyncs closes (true) or opens a sync window of the apps' project: while closed, a
// sync is refused.
func (s *Server) BlockSyncs(blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windowed = blocked
}

// SetDelay holds every request for d before answering (a slow Argo CD).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// BreakWatch makes the watch stream unavailable, so clients must poll.
func (s *Server) BreakWatch(broken bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchDown = broken
}

// AddApp adds an Application; autoSync apps start their script when a refresh finds a new
// revision, the others when asked to sync. Without steps the app becomes Healthy.
func (s *Server) AddApp(name string, autoSync bool, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{script: steps}
	if len(steps) == 0 {
		a.script = Healthy(10 * time.Millisecond)
	}
	a.obj.Name, a.obj.Namespace = name, "argocd"
	a.obj.Spec.Project = "default"
	a.obj.Spec.Source = &v1alpha1.ApplicationSource{RepoURL: "https://github.com/acme/gitops.git", Path: name, TargetRevision: "main"}
	a.obj.Spec.SyncPolicy = &v1alpha1.SyncPolicy{SyncOptions: v1alpha1.SyncOptions{"CreateNamespace=true"}}
	if autoSync {
		a.obj.Spec.SyncPolicy.Automated = &v1alpha1.SyncPolicyAutomated{Prune: true}
	}
	a.target = s.head()
	now := metav1.Now()
	a.obj.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: a.target}
	a.live = health.HealthStatusHealthy
	a.obj.Status.Health = v1alpha1.HealthStatus{Status: a.live, LastTransitionTime: &now}
	a.obj.Status.ReconciledAt = &now
	a.obj.Status.Summary.Images = []string{"ghcr.io/acme/" + name + ":current"}
	s.apps[name] = a
	s.notify()
}

// SetScript changes the steps of the app's next rollouts.
func (s *Server) SetScript(name string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.script = steps
	}
}

// SetHealth sets the app's health in the cluster and in its status, as assessed now: what
// an earlier rollout left (a broken one: Degraded).
func (s *Server) SetHealth(name, h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.live = health.HealthStatusCode(h)
		a.assess(true)
		s.notify()
	}
}

// StallStatus makes the controller stop assessing the app's health (stalled true), as
// one whose status processors never get to it does: syncs still run, but status.health,
// reconciledAt and the health's transition time stay as they were, refreshes included.
func (s *Server) StallStatus(name string, stalled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		a.unassessed = stalled
	}
}

// assess is the controller's reconcile of a: status.health becomes the live health, its
// transition time moves when it changes, and a reconcile with the latest Git (a refresh,
// or the one after an operation) stamps reconciledAt. The lock is held.
func (a *app) assess(latest bool) {
	if a.unassessed {
		return
	}
	now := metav1.Now()
	st := &a.obj.Status
	if st.Health.Status != a.live {
		st.Health = v1alpha1.HealthStatus{Status: a.live, LastTransitionTime: &now}
	}
	st.Resources = append([]v1alpha1.ResourceStatus(nil), a.liveRes...)
	if latest {
		st.ReconciledAt = &now
	}
}

// Calls lists the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// State is an app's current sync and health.
func (s *Server) State(name string) (sync, health, revision string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return "", "", ""
	}
	return string(a.obj.Status.Sync.Status), string(a.obj.Status.Health.Status), a.obj.Status.Sync.Revision
}

// notify wakes watchers; the lock is held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.At = time.Now()
	s.calls = append(s.calls, c)
}

// authorize finds the account of the token argo-cd's client sends as "token" metadata.
func (s *Server) authorize(ctx context.Context) (*account, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range md.Get("token") {
		if a := s.accounts[tok]; a != nil {
			return a, nil
		}
	}
	return nil, status.Error(codes.Unauthenticated, "invalid session: token is not valid")
}

// permissionDenied is argocd-server's answer when the account may not get the app or the
// app does not exist, the query naming no project: it does not say which.
var permissionDenied = status.Error(codes.PermissionDenied, "permission denied")

// enforce is argocd-server's RBAC check of an action on an app, with its message.
func enforce(ctx context.Context, action string, a *app) error {
	acc, _ := ctx.Value(accountKey{}).(*account)
	if acc != nil && acc.may(action) {
		return nil
	}
	sub, iat := "", ""
	if acc != nil {
		sub, iat = acc.sub, acc.iat.UTC().Format(time.RFC3339)
	}
	return status.Errorf(codes.PermissionDenied, "permission denied: applications, %s, %s/%s, sub: %s, iat: %s", action, a.obj.Spec.Project, a.obj.Name, sub, iat)
}

// readable is the app the account may get, or argocd-server's error; the lock is held.
func (s *Server) readable(ctx context.Context, name string) (*app, error) {
	a := s.apps[name]
	if a == nil || enforce(ctx, "get", a) != nil {
		return nil, permissionDenied
	}
	return a, nil
}

func subject(ctx context.Context) string {
	if acc, _ := ctx.Value(accountKey{}).(*account); acc != nil {
		return acc.sub
	}
	return ""
}

func (s *Server) hold(ctx context.Context) error {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	if d == 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.hold(ctx); err != nil {
		return nil, err
	}
	acc, err := s.authorize(ctx)
	if err != nil {
		return nil, err
	}
	return h(context.WithValue(ctx, accountKey{}, acc), req)
}

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.hold(ss.Context()); err != nil {
		return err
	}
	acc, err := s.authorize(ss.Context())
	if err != nil {
		return err
	}
	return h(srv, &accountStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), accountKey{}, acc)})
}

// accountStream carries the account into a stream's context.
type accountStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a *accountStream) Context() context.Context { return a.ctx }

// Version answers as argocd-server does.
func (s *Server) Version(context.Context, *emptypb.Empty) (*version.VersionMessage, error) {
	s.record(Call{Method: "Version"})
	return &version.VersionMessage{Version: "v2.14.21+argoapitest"}, nil
}

// Get returns an app; with refresh set, Argo CD looks at Git first (hard: without its
// caches, which the fake does not have) and answers once it has.
func (s *Server) Get(ctx context.Context, q *application.ApplicationQuery) (*v1alpha1.Application, error) {
	name := q.GetName()
	method := "Get"
	if q.GetRefresh() != "" {
		method = "Refresh"
	}
	s.record(Call{Method: method, App: name, Refresh: q.GetRefresh(), Sub: subject(ctx)})
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.readable(ctx, name)
	if err != nil {
		return nil, err
	}
	if method == "Refresh" {
		s.refresh(name, a)
	}
	return a.obj.DeepCopy(), nil
}

// refresh is the controller's reconcile with the latest Git: compare, start an automated
// sync where the app has one, assess. The lock is held.
func (s *Server) refresh(name string, a *app) {
	if rev := s.head(); rev != a.target {
		a.compare(rev)
	}
	// Automated sync, as the controller's: not while an operation runs (the next
	// refresh after it does), and not again to a revision it already tried.
	op := a.obj.Status.OperationState
	tried := op != nil && op.Operation.Sync != nil && op.Operation.Sync.Revision == a.target
	if auto := a.obj.Spec.SyncPolicy.Automated; auto != nil && a.obj.Operation == nil && !tried && a.obj.Status.Sync.Status == v1alpha1.SyncStatusCodeOutOfSync {
		s.run(name, a, v1alpha1.Operation{
			Sync:        &v1alpha1.SyncOperation{Revision: a.target, Prune: auto.Prune, SyncOptions: a.obj.Spec.SyncPolicy.SyncOptions},
			InitiatedBy: v1alpha1.OperationInitiator{Automated: true},
		})
	}
	a.assess(true)
	s.notify()
}

// Poll is the controller's periodic look at Git for the app (its resync), which no
// client asked for: a new commit found, an app with automated sync starts its script.
func (s *Server) Poll(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[name]; a != nil {
		s.refresh(name, a)
	}
}

// compare is the controller's comparison of a with a new revision of Git: out of sync
// with it. The lock is held.
func (a *app) compare(rev string) {
	a.target = rev
	a.obj.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
	a.obj.Status.Sync.Revision = rev
}

// Sync starts an operation syncing the app, after argocd-server's checks, in its order.
func (s *Server) Sync(ctx context.Context, req *application.ApplicationSyncRequest) (*v1alpha1.Application, error) {
	name := req.GetName()
	s.record(Call{Method: "Sync", App: name, Revision: req.GetRevision(), Sync: req, Sub: subject(ctx)})
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.readable(ctx, name)
	if err != nil {
		return nil, err
	}
	if s.windowed {
		return nil, status.Errorf(codes.PermissionDenied, "cannot sync: blocked by sync window")
	}
	if err := enforce(ctx, "sync", a); err != nil {
		return nil, err
	}
	policy, target := a.obj.Spec.SyncPolicy, a.obj.Spec.Source.TargetRevision
	if policy.Automated != nil && !req.GetDryRun() && req.GetRevision() != "" && req.GetRevision() != target {
		return nil, status.Errorf(codes.FailedPrecondition, "Cannot sync to %s: auto-sync currently set to %s", req.GetRevision(), target)
	}
	// The revision resolved as the repo server does: a commit stays, a branch is its head.
	rev := req.GetRevision()
	if rev == "" || rev == target {
		rev = s.head()
	}
	if a.obj.Operation != nil {
		return nil, status.Error(codes.FailedPrecondition, "another operation is already in progress")
	}
	if rev == s.head() && rev != a.target {
		a.compare(rev) // the controller compares with the head too
	}
	op := v1alpha1.Operation{
		Sync: &v1alpha1.SyncOperation{Revision: rev, Prune: req.GetPrune(), DryRun: req.GetDryRun(),
			SyncOptions: policy.SyncOptions, SyncStrategy: req.Strategy},
		InitiatedBy: v1alpha1.OperationInitiator{Username: subject(ctx)},
		Info:        req.Infos,
	}
	if req.SyncOptions != nil {
		op.Sync.SyncOptions = req.SyncOptions.Items
	}
	s.run(name, a, op)
	return a.obj.DeepCopy(), nil
}

// run sets op as the app's operation and plays the script of a toward its revision in the
// background, as the controller would; a later operation supersedes it. The lock is held.
func (s *Server) run(name string, a *app, op v1alpha1.Operation) {
	rev := op.Sync.Revision
	a.run++
	gen := a.run
	a.obj.Operation = op.DeepCopy()
	a.obj.Status.OperationState = &v1alpha1.OperationState{Operation: *op.DeepCopy(), Phase: synccommon.OperationRunning, StartedAt: metav1.Now()}
	steps := append([]Step(nil), a.script...)
	go func() {
		for _, st := range steps {
			time.Sleep(st.After)
			s.mu.Lock()
			if s.apps[name] != a || a.run != gen {
				s.mu.Unlock()
				return
			}
			o := &a.obj.Status
			o.Sync.Status = v1alpha1.SyncStatusCode(st.Sync)
			if st.Sync == "Synced" {
				o.Sync.Revision = rev
			}
			o.OperationState.Phase = synccommon.OperationPhase(st.Phase)
			o.OperationState.Message = st.Message
			if st.Phase != "Running" && o.OperationState.FinishedAt == nil {
				now := metav1.Now()
				o.OperationState.FinishedAt = &now
				o.OperationState.SyncResult = &v1alpha1.SyncOperationResult{Revision: rev}
				a.obj.Operation = nil // the controller clears it when the operation completes
			}
			a.live, a.liveRes = health.HealthStatusCode(st.Health), nil
			for _, r := range st.Unhealthy {
				a.liveRes = append(a.liveRes, v1alpha1.ResourceStatus{
					Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Status: v1alpha1.SyncStatusCodeSynced,
					Health: &v1alpha1.HealthStatus{Status: health.HealthStatusCode(r.Health), Message: r.Message},
				})
			}
			if !st.Stale {
				a.assess(st.Phase != "Running")
			}
			s.notify()
			s.mu.Unlock()
		}
	}()
}

// Watch streams the app's state on every change until the client goes away. Without a
// name it streams every app the account may get, as argocd-server does: each app first
// (ADDED), then each app that changed (MODIFIED) or went away (DELETED).
func (s *Server) Watch(q *application.ApplicationQuery, stream application.ApplicationService_WatchServer) error {
	name := q.GetName()
	s.record(Call{Method: "Watch", App: name, Sub: subject(stream.Context())})
	if name == "" {
		return s.watchAll(stream)
	}
	s.mu.Lock()
	broken := s.watchDown
	_, err := s.readable(stream.Context(), name)
	s.mu.Unlock()
	if broken {
		return status.Error(codes.Unavailable, "watch is not available")
	}
	if err != nil {
		return err
	}
	for {
		s.mu.Lock()
		a, changed := s.apps[name], s.changed
		var obj *v1alpha1.Application
		if a != nil {
			obj = a.obj.DeepCopy()
		}
		s.mu.Unlock()
		if obj != nil {
			if err := stream.Send(&v1alpha1.ApplicationWatchEvent{Type: watch.Modified, Application: *obj}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (s *Server) watchAll(stream application.ApplicationService_WatchServer) error {
	s.mu.Lock()
	broken := s.watchDown
	s.mu.Unlock()
	if broken {
		return status.Error(codes.Unavailable, "watch is not available")
	}
	sent := map[string]*v1alpha1.Application{}
	for {
		var events []*v1alpha1.ApplicationWatchEvent
		s.mu.Lock()
		changed, names := s.changed, make([]string, 0, len(s.apps))
		for n := range s.apps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := s.apps[n]
			if enforce(stream.Context(), "get", a) != nil {
				continue
			}
			prev, seen := sent[n]
			switch {
			case !seen:
				events = append(events, &v1alpha1.ApplicationWatchEvent{Type: watch.Added, Application: *a.obj.DeepCopy()})
			case !reflect.DeepEqual(prev.Status, a.obj.Status) || !reflect.DeepEqual(prev.Spec, a.obj.Spec):
				events = append(events, &v1alpha1.ApplicationWatchEvent{Type: watch.Modified, Application: *a.obj.DeepCopy()})
			}
		}
		for n, prev := range sent {
			if s.apps[n] == nil {
				events = append(events, &v1alpha1.ApplicationWatchEvent{Type: watch.Deleted, Application: *prev})
			}
		}
		s.mu.Unlock()
		for _, ev := range events {
			if ev.Type == watch.Deleted {
				delete(sent, ev.Application.Name)
			} else {
				sent[ev.Application.Name] = ev.Application.DeepCopy()
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

// RemoveApp deletes an Application.
func (s *Server) RemoveApp(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.apps, name)
	s.notify()
}

// SetLive sets the app's live health and unhealthy resources and has the controller
// assess them now, as a cluster changing under a synced app does (a pod crashing, a
// deadline exceeded), with no sync.
func (s *Server) SetLive(name, h string, res ...Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[name]
	if a == nil {
		return
	}
	a.live, a.liveRes = health.HealthStatusCode(h), nil
	for _, r := range res {
		a.liveRes = append(a.liveRes, v1alpha1.ResourceStatus{
			Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Status: v1alpha1.SyncStatusCodeSynced,
			Health: &v1alpha1.HealthStatus{Status: health.HealthStatusCode(r.Health), Message: r.Message},
		})
	}
	a.assess(false)
	s.notify()
}

// Apps lists the apps' names.
func (s *Server) Apps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.apps {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// String describes the fake for test logs.
func (s *Server) String() string {
	how := "gRPC"
	if s.opts.GRPCWeb {
		how = "gRPC-web"
	}
	if s.opts.TLS {
		how += " over TLS"
	}
	return fmt.Sprintf("argoapitest (%s) at %s%s", how, s.addr, s.opts.RootPath)
}
