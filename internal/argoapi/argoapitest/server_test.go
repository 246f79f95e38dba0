package argoapitest_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/daytwo-dev/daytwo/internal/argoapi/argoapitest"
)

// The fake is driven here with argo-cd's own generated client, as the argocd CLI would,
// and its answers are compared with argocd-server v2.14's.

const token = "admin-token"

type git struct {
	mu  sync.Mutex
	rev string
}

func (g *git) head() string { g.mu.Lock(); defer g.mu.Unlock(); return g.rev }
func (g *git) push(rev string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rev = rev
}

func start(t *testing.T) (*argoapitest.Server, *git, func(tok string) (application.ApplicationServiceClient, context.Context)) {
	t.Helper()
	g := &git{rev: strings.Repeat("a", 40)}
	fake := argoapitest.New(t, token, g.head)
	conn, err := grpc.NewClient(fake.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	as := func(tok string) (application.ApplicationServiceClient, context.Context) {
		return application.NewApplicationServiceClient(conn), metadata.AppendToOutgoingContext(ctx, "token", tok)
	}
	return fake, g, as
}

func ptr[T any](v T) *T { return &v }

func wantStatus(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	if st := status.Convert(err); st.Code() != code || st.Message() != msg {
		t.Errorf("got %v %q, want %v %q", st.Code(), st.Message(), code, msg)
	}
}

// until polls the app until ok holds.
func until(t *testing.T, apps application.ApplicationServiceClient, ctx context.Context, name string, ok func(*v1alpha1.Application) bool) *v1alpha1.Application {
	t.Helper()
	for {
		a, err := apps.Get(ctx, &application.ApplicationQuery{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if ok(a) {
			return a
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached; last status %+v", name, a.Status)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestSyncOperationLifecycle(t *testing.T) {
	fake, g, as := start(t)
	fake.AddApp("checkout-prod", false, argoapitest.Healthy(50*time.Millisecond)...)
	apps, ctx := as(token)
	rev := strings.Repeat("b", 40)
	g.push(rev)

	a, err := apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("checkout-prod"), Prune: ptr(false),
		Infos: []*v1alpha1.Info{{Name: "daytwo", Value: "sync-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	// The target revision (main) resolved to its commit; the operation as asked, by whom.
	op := a.Operation
	if op == nil || op.Sync.Revision != rev || op.Sync.Prune || op.InitiatedBy.Username != "daytwo" || op.InitiatedBy.Automated ||
		len(op.Info) != 1 || op.Info[0].Value != "sync-1" || len(op.Sync.SyncOptions) != 1 || op.Sync.SyncOptions[0] != "CreateNamespace=true" {
		t.Fatalf("operation %+v", op)
	}
	if a.Status.OperationState == nil || a.Status.OperationState.Phase != "Running" || a.Status.OperationState.Operation.Info[0].Value != "sync-1" {
		t.Fatalf("operation state %+v", a.Status.OperationState)
	}

	_, err = apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("checkout-prod")})
	wantStatus(t, err, codes.FailedPrecondition, "another operation is already in progress")

	a = until(t, apps, ctx, "checkout-prod", func(a *v1alpha1.Application) bool {
		return a.Operation == nil && a.Status.Health.Status == "Healthy" && a.Status.Sync.Revision == rev
	})
	st := a.Status.OperationState
	if a.Operation != nil || st.Phase != "Succeeded" || st.FinishedAt == nil || st.SyncResult == nil || st.SyncResult.Revision != rev || a.Status.Sync.Revision != rev {
		t.Fatalf("after the sync: operation %+v, state %+v, sync %+v", a.Operation, st, a.Status.Sync)
	}
	// Once the operation has completed, another sync is accepted.
	if _, err := apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("checkout-prod"), Revision: ptr(rev)}); err != nil {
		t.Errorf("a sync after the operation: %v", err)
	}
}

func TestFailedSync(t *testing.T) {
	fake, g, as := start(t)
	fake.AddApp("checkout-prod", false, argoapitest.Failed(10*time.Millisecond, "one or more objects failed to apply")...)
	apps, ctx := as(token)
	g.push(strings.Repeat("c", 40))
	if _, err := apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("checkout-prod")}); err != nil {
		t.Fatal(err)
	}
	a := until(t, apps, ctx, "checkout-prod", func(a *v1alpha1.Application) bool { return a.Operation == nil })
	if st := a.Status.OperationState; st.Phase != "Failed" || st.Message != "one or more objects failed to apply" || a.Status.Sync.Status != "OutOfSync" {
		t.Errorf("state %+v, sync %+v", st, a.Status.Sync)
	}
}

func TestAutomatedSync(t *testing.T) {
	fake, g, as := start(t)
	fake.AddApp("catalog-dev", true, argoapitest.Failed(10*time.Millisecond, "one or more objects failed to apply")...)
	apps, ctx := as(token)
	rev := strings.Repeat("d", 40)
	g.push(rev)
	a, err := apps.Get(ctx, &application.ApplicationQuery{Name: ptr("catalog-dev"), Refresh: ptr("normal")})
	if err != nil {
		t.Fatal(err)
	}
	if op := a.Operation; op == nil || !op.InitiatedBy.Automated || !op.Sync.Prune || op.Sync.Revision != rev {
		t.Fatalf("a refresh finding a new revision starts the automated sync: %+v", op)
	}
	// Only to the target revision.
	_, err = apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("catalog-dev"), Revision: ptr(rev)})
	wantStatus(t, err, codes.FailedPrecondition, "Cannot sync to "+rev+": auto-sync currently set to main")
	until(t, apps, ctx, "catalog-dev", func(a *v1alpha1.Application) bool { return a.Operation == nil })

	// Automated sync does not try the revision that failed again; a person may.
	a, err = apps.Get(ctx, &application.ApplicationQuery{Name: ptr("catalog-dev"), Refresh: ptr("hard")})
	if err != nil || a.Operation != nil {
		t.Fatalf("a refresh after the failure: %+v %v", a.Operation, err)
	}
	fake.SetScript("catalog-dev", argoapitest.Healthy(10*time.Millisecond)...)
	if _, err := apps.Sync(ctx, &application.ApplicationSyncRequest{Name: ptr("catalog-dev"), Revision: ptr("main")}); err != nil {
		t.Fatal(err)
	}
	until(t, apps, ctx, "catalog-dev", func(a *v1alpha1.Application) bool {
		return a.Status.Sync.Status == "Synced" && a.Status.Sync.Revision == rev
	})
	var refreshes []string
	for _, c := range fake.Calls() {
		if c.Method == "Refresh" {
			refreshes = append(refreshes, c.Refresh)
		}
	}
	if strings.Join(refreshes, ",") != "normal,hard" {
		t.Errorf("refreshes %v", refreshes)
	}
}

func TestRBACAndRefusals(t *testing.T) {
	fake, g, as := start(t)
	fake.AddApp("checkout-prod", false)
	fake.AddAccount("viewer-token", "viewer", "get")
	fake.AddAccount("nobody-token", "nobody")
	g.push(strings.Repeat("e", 40))
	name := ptr("checkout-prod")

	viewer, vctx := as("viewer-token")
	if _, err := viewer.Get(vctx, &application.ApplicationQuery{Name: name, Refresh: ptr("hard")}); err != nil {
		t.Errorf("get and refresh need get only: %v", err)
	}
	_, err := viewer.Sync(vctx, &application.ApplicationSyncRequest{Name: name})
	if st := status.Convert(err); st.Code() != codes.PermissionDenied ||
		!regexp.MustCompile(`^permission denied: applications, sync, default/checkout-prod, sub: viewer, iat: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(st.Message()) {
		t.Errorf("sync without the permission: %v", err)
	}

	nobody, nctx := as("nobody-token")
	_, err = nobody.Get(nctx, &application.ApplicationQuery{Name: name})
	wantStatus(t, err, codes.PermissionDenied, "permission denied")
	_, err = nobody.Sync(nctx, &application.ApplicationSyncRequest{Name: name})
	wantStatus(t, err, codes.PermissionDenied, "permission denied")
	w, err := nobody.Watch(nctx, &application.ApplicationQuery{Name: name})
	if err == nil {
		_, err = w.Recv()
	}
	wantStatus(t, err, codes.PermissionDenied, "permission denied")

	admin, actx := as(token)
	_, err = admin.Get(actx, &application.ApplicationQuery{Name: ptr("nope")})
	wantStatus(t, err, codes.PermissionDenied, "permission denied")
	stranger, sctx := as("not-a-token")
	_, err = stranger.Get(sctx, &application.ApplicationQuery{Name: name})
	wantStatus(t, err, codes.Unauthenticated, "invalid session: token is not valid")

	fake.BlockSyncs(true)
	_, err = admin.Sync(actx, &application.ApplicationSyncRequest{Name: name})
	wantStatus(t, err, codes.PermissionDenied, "cannot sync: blocked by sync window")
	fake.BlockSyncs(false)

	// Nothing refused started an operation.
	a, err := admin.Get(actx, &application.ApplicationQuery{Name: name})
	if err != nil || a.Operation != nil || a.Status.OperationState != nil {
		t.Errorf("after the refusals: %+v %v", a.Operation, err)
	}
	var subs []string
	for _, c := range fake.Calls() {
		if c.Method == "Sync" {
			subs = append(subs, c.Sub)
		}
	}
	if strings.Join(subs, ",") != "viewer,nobody,daytwo" {
		t.Errorf("syncs recorded by %v", subs)
	}
}
