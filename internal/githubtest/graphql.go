package githubtest

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// GitHub's published GraphQL schema (schema.graphql of @octokit/graphql-schema@15.26.1,
// gzipped). Every query is parsed and validated against it before it runs, so a query the
// fake accepts is one GitHub accepts too.
//
//go:embed schema/github.graphql.gz
var schemaGz []byte

var githubSchema = sync.OnceValues(func() (*ast.Schema, error) {
	zr, err := gzip.NewReader(bytes.NewReader(schemaGz))
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL schema: %w", err)
	}
	src, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("GitHub GraphQL schema: %w", err)
	}
	doc, gerr := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "github.graphql", Input: string(src)})
	if gerr != nil {
		return nil, fmt.Errorf("GitHub GraphQL schema: %w", gerr)
	}
	// The published schema defines EnterpriseOwnerInfo.repositoryDeployKeySettingOrganizations
	// twice; GitHub's own server tolerates it, gqlparser's validation does not.
	for _, d := range doc.Definitions {
		seen := map[string]bool{}
		kept := d.Fields[:0]
		for _, f := range d.Fields {
			if !seen[f.Name] {
				seen[f.Name] = true
				kept = append(kept, f)
			}
		}
		d.Fields = kept
	}
	schema, gerr := validator.ValidateSchemaDocument(doc)
	if gerr != nil {
		return nil, fmt.Errorf("GitHub GraphQL schema: %w", gerr)
	}
	return schema, nil
})

// gqlError is one entry of a GraphQL response's "errors", shaped like GitHub's.
type gqlError struct {
	Type      string   `json:"type,omitempty"`
	Path      []any    `json:"path,omitempty"`
	Locations []gqlLoc `json:"locations,omitempty"`
	Message   string   `json:"message"`
}

type gqlLoc struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// fieldError is what a resolver returns to null its field and report why.
type resolveError struct{ typ, msg string }

func (e *resolveError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &resolveError{typ: "NOT_FOUND", msg: fmt.Sprintf(format, args...)}
}

func unprocessable(format string, args ...any) error {
	return &resolveError{typ: "UNPROCESSABLE", msg: fmt.Sprintf(format, args...)}
}

// gqlObject is a value of a GraphQL object type.
type gqlObject interface {
	typeName() string
	field(x *gqlExec, name string, args map[string]any) (any, error)
}

// gqlExec runs one operation with the server lock held.
type gqlExec struct {
	s      *Server
	c      *call
	schema *ast.Schema
	doc    *ast.QueryDocument
	vars   map[string]any
	errs   []gqlError
}

func (s *Server) graphqlRoutes() {
	s.handle("POST /api/graphql", authInstallation, s.serveGraphQL)
}

// serveGraphQL answers like GitHub: 200 with "data" and/or "errors"; a document that does
// not parse or validate gets errors only.
func (s *Server) serveGraphQL(c *call) {
	var req struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	dec := json.NewDecoder(c.r.Body)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		c.fail(http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	schema, err := githubSchema()
	if err != nil {
		c.fail(http.StatusInternalServerError, err.Error())
		return
	}
	doc, gerrs := parser.ParseQuery(&ast.Source{Name: "query", Input: req.Query})
	if gerrs != nil {
		c.json(http.StatusOK, map[string]any{"errors": toGQLErrors(asList(gerrs))})
		return
	}
	if list := validator.ValidateWithRules(schema, doc, nil); len(list) > 0 { // nil: the spec's rules
		c.json(http.StatusOK, map[string]any{"errors": toGQLErrors(list)})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		c.json(http.StatusOK, map[string]any{"errors": []gqlError{{Message: "No operation named \"" + req.OperationName + "\""}}})
		return
	}
	vars, gerr := validator.VariableValues(schema, op, req.Variables)
	if gerr != nil {
		c.json(http.StatusOK, map[string]any{"errors": toGQLErrors(asList(gerr))})
		return
	}
	x := &gqlExec{s: s, c: c, schema: schema, doc: doc, vars: vars}
	var root gqlObject = queryRoot{}
	if op.Operation == ast.Mutation {
		root = mutationRoot{}
	}
	data := x.selectionSet(root, op.SelectionSet, nil)
	out := map[string]any{"data": data}
	if len(x.errs) > 0 {
		out["errors"] = x.errs
	}
	c.json(http.StatusOK, out)
}

func asList(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	return gqlerror.List{gqlerror.Errorf("%v", err)}
}

func toGQLErrors(list gqlerror.List) []gqlError {
	out := make([]gqlError, 0, len(list))
	for _, e := range list {
		ge := gqlError{Message: e.Message}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLoc{Line: l.Line, Column: l.Column})
		}
		out = append(out, ge)
	}
	return out
}

// selectionSet resolves a selection on obj; fields run in document order, which for a
// mutation is the serial execution the spec requires.
func (x *gqlExec) selectionSet(obj gqlObject, set ast.SelectionSet, path []any) map[string]any {
	out := map[string]any{}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			fpath := append(append([]any(nil), path...), key)
			if sel.Name == "__typename" {
				out[key] = obj.typeName()
				continue
			}
			err := x.s.takeFieldFault(sel.Name)
			var v any
			if err == nil {
				v, err = obj.field(x, sel.Name, sel.ArgumentMap(x.vars))
			}
			if err != nil {
				out[key] = nil
				x.fail(fpath, sel.Position, err)
				continue
			}
			out[key] = x.complete(v, sel.SelectionSet, fpath)
		case *ast.InlineFragment:
			if x.matches(obj.typeName(), sel.TypeCondition) {
				for k, v := range x.selectionSet(obj, sel.SelectionSet, path) {
					out[k] = v
				}
			}
		case *ast.FragmentSpread:
			def := x.doc.Fragments.ForName(sel.Name)
			if def != nil && x.matches(obj.typeName(), def.TypeCondition) {
				for k, v := range x.selectionSet(obj, def.SelectionSet, path) {
					out[k] = v
				}
			}
		}
	}
	return out
}

func (x *gqlExec) complete(v any, set ast.SelectionSet, path []any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case gqlObject:
		return x.selectionSet(v, set, path)
	case []gqlObject:
		list := make([]any, len(v))
		for i, o := range v {
			list[i] = x.selectionSet(o, set, append(append([]any(nil), path...), i))
		}
		return list
	default:
		return v
	}
}

// matches reports whether an object of type typ satisfies a fragment's type condition.
func (x *gqlExec) matches(typ, cond string) bool {
	if cond == "" || cond == typ {
		return true
	}
	def := x.schema.Types[cond]
	if def == nil {
		return false
	}
	for _, p := range x.schema.GetPossibleTypes(def) {
		if p.Name == typ {
			return true
		}
	}
	return false
}

func (x *gqlExec) fail(path []any, pos *ast.Position, err error) {
	e := gqlError{Path: path, Message: err.Error()}
	if re, ok := err.(*resolveError); ok {
		e.Type = re.typ
	}
	if pos != nil {
		e.Locations = []gqlLoc{{Line: pos.Line, Column: pos.Column}}
	}
	x.errs = append(x.errs, e)
}

var operationRE = regexp.MustCompile(`^\s*(query|mutation)\b\s*([_A-Za-z][_0-9A-Za-z]*)?`)

// operation is the kind ("query" or "mutation") and name of a GraphQL request's operation.
func operation(body []byte) (kind, name string) {
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", ""
	}
	kind = "query" // a document may start with its selection set: a query
	if m := operationRE.FindStringSubmatch(req.Query); m != nil {
		kind, name = m[1], m[2]
	}
	if req.OperationName != "" {
		name = req.OperationName
	}
	return kind, name
}

// --- node ids ---

func (is *issueState) nodeID() string {
	if is.pull != nil {
		return nodeID("PullRequest", is.pull.id)
	}
	return nodeID("Issue", is.id)
}

// decodeNodeID splits a legacy global id ("0<len>:<Type><id>", base64) into type and id.
func decodeNodeID(id string) (typ, key string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(raw) < 3 || raw[0] != '0' {
		return "", "", false
	}
	s := string(raw[1:])
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || i >= len(s) || s[i] != ':' || i+1+n > len(s) {
		return "", "", false
	}
	return s[i+1 : i+1+n], s[i+1+n:], true
}

// repoOfNode finds the repository and issue (or pull request) a node id names, among the
// repositories the calling installation covers.
func (x *gqlExec) issueByNode(id string) (*repoState, *issueState, error) {
	typ, key, ok := decodeNodeID(id)
	n, err := strconv.ParseInt(key, 10, 64)
	if ok && err == nil && (typ == "Issue" || typ == "PullRequest") {
		for _, rs := range x.s.repos {
			if !x.c.tok.covers(rs) {
				continue
			}
			for _, is := range rs.issues {
				if typ == "Issue" && is.id == n || typ == "PullRequest" && is.pull != nil && is.pull.id == n {
					return rs, is, nil
				}
			}
		}
	}
	return nil, nil, notFound("Could not resolve to a node with the global id of '%s'", id)
}

func (x *gqlExec) commentByNode(id string) (*repoState, *commentState, error) {
	typ, key, ok := decodeNodeID(id)
	n, err := strconv.ParseInt(key, 10, 64)
	if ok && err == nil && typ == "IssueComment" {
		for _, rs := range x.s.repos {
			if cm := rs.comments[n]; cm != nil && x.c.tok.covers(rs) {
				return rs, cm, nil
			}
		}
	}
	return nil, nil, notFound("Could not resolve to a node with the global id of '%s'", id)
}

func (x *gqlExec) repoByNode(id string) (*repoState, error) {
	typ, key, ok := decodeNodeID(id)
	n, err := strconv.ParseInt(key, 10, 64)
	if ok && err == nil && typ == "Repository" {
		if rs := x.s.repoByID(n); rs != nil && x.c.tok.covers(rs) {
			return rs, nil
		}
	}
	return nil, notFound("Could not resolve to a node with the global id of '%s'", id)
}

func (x *gqlExec) repoByName(nameWithOwner string) (*repoState, error) {
	rs := x.s.repos[strings.ToLower(nameWithOwner)]
	if rs == nil || !x.c.tok.covers(rs) {
		return nil, notFound("Could not resolve to a Repository with the name '%s'.", nameWithOwner)
	}
	return rs, nil
}

// --- argument helpers ---

func argString(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

func argInt(args map[string]any, name string, def int) int {
	switch v := args[name].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
	case int64:
		return int(v)
	case int:
		return v
	case float64:
		return int(v)
	}
	return def
}

func argStrings(args map[string]any, name string) []string {
	list, _ := args[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func argObject(args map[string]any, name string) map[string]any {
	m, _ := args[name].(map[string]any)
	return m
}

func argBool(args map[string]any, name string) bool {
	b, _ := args[name].(bool)
	return b
}

// obj is a payload or small object given as a map of already-resolved fields.
type obj struct {
	typ    string
	fields map[string]any
}

func (o obj) typeName() string { return o.typ }

func (o obj) field(_ *gqlExec, name string, _ map[string]any) (any, error) {
	return o.fields[name], nil
}
