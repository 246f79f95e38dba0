package repoconfig

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

const docsFile = "../../docs/config.md"

// TestDocsExampleLoads: the complete example of docs/config.md is a valid config.
func TestDocsExampleLoads(t *testing.T) {
	b, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## A complete example")
	if !ok {
		t.Fatal("docs/config.md has no complete example")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	example, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the example's code block is not closed")
	}
	c, err := Load([]byte(example), commands)
	if err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
	prod, _ := c.Env("prod")
	if prod.Allowed("status").Permission != "read" || prod.Allowed("promote").Permission != "maintain" {
		t.Errorf("the example's prod policy is not what its comments say: %+v", prod.Requesters)
	}
}

// TestDocsCoverKeys: every key of the config types is described in docs/config.md.
func TestDocsCoverKeys(t *testing.T) {
	b, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == timeType || seen[typ] {
			return
		}
		seen[typ] = true
		_, names := yamlFields(typ)
		for _, n := range names {
			if !strings.Contains(doc, "| `"+n+"` |") {
				t.Errorf("docs/config.md has no table row for %s.%s", typ.Name(), n)
			}
		}
		for i := 0; i < typ.NumField(); i++ {
			walk(typ.Field(i).Type)
		}
	}
	walk(reflect.TypeOf(Config{}))
	for _, c := range commands.Governed() {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("docs/config.md does not mention the command %s", c)
		}
	}
}
