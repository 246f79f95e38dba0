package templates_test

import (
	"io/fs"
	"reflect"
	"testing"

	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/templates"
)

func TestIssueFormsEmbedded(t *testing.T) {
	names, err := fs.Glob(templates.IssueForms, templates.IssueFormsDir+"/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ask.yml", "config.yml", "dashboard.yml", "new-service.yml", "promote.yml", "restart.yml", "rollback.yml", "run.yml", "scale.yml", "set-image.yml", "sync.yml"}
	for i := range want {
		want[i] = templates.IssueFormsDir + "/" + want[i]
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("embedded forms %v, want %v", names, want)
	}
	for _, n := range names {
		data, err := fs.ReadFile(templates.IssueForms, n)
		if err != nil {
			t.Fatal(err)
		}
		f, err := command.ParseForm(data)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if want := n[len(templates.IssueFormsDir)+1 : len(n)-len(".yml")]; f.Verb != want {
			t.Errorf("%s is for /%s", n, f.Verb)
		}
	}
}
