package repoconfig

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// SchemaID is where the published JSON Schema of the config lives; editors find it through
// a `# yaml-language-server: $schema=<SchemaID>` first line.
const SchemaID = "https://raw.githubusercontent.com/daytwo-dev/daytwo/main/docs/daytwo.schema.json"

// fieldDoc is what the schema says about one key beyond its Go type.
type fieldDoc struct {
	Description string
	Required    bool
	Pattern     string
	Enum        []string
	Const       any
	Default     any
	Minimum     *int
	Maximum     *int
	MinItems    int
	Examples    []any
}

func ptr(i int) *int { return &i }

var (
	dnsLabelPattern = `^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`
	durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	timePattern     = `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$`
)

// fieldDocs documents every YAML key, keyed "<Go type>.<key>". JSONSchema fails when a
// field of the config types has no entry here, so the schema cannot fall behind them.
var fieldDocs = map[string]fieldDoc{
	"Config.version":      {Description: "Config format version; must be 1.", Required: true, Const: Version},
	"Config.environments": {Description: "Environments in promotion order: /promote <env> takes what the previous one runs.", Required: true, MinItems: 1},
	"Config.services":     {Description: "Services daytwo operates, each with an overlay per environment.", Required: true, MinItems: 1},
	"Config.defaults":     {Description: "Values for services and environments that leave them out; replaces the built-in defaults."},

	"Environment.name":            {Description: "Environment name, a DNS label (dev, staging, prod).", Required: true, Pattern: dnsLabelPattern},
	"Environment.requesters":      {Description: "Who may request each command here; \"*\" covers commands not listed. Unlisted commands need write permission, read-only ones (status, history, diff, help) read."},
	"Environment.replicas":        {Description: "Bounds /scale must stay within."},
	"Environment.autoMerge":       {Description: "Merge daytwo's pull requests once they render and checks pass.", Default: false},
	"Environment.requireApproval": {Description: "Pull requests wait for code-owner approval, even with autoMerge. Default: true unless autoMerge is set."},
	"Environment.promoteConfig":   {Description: "/promote into this environment also copies the service's ConfigMap literals.", Default: false},
	"Environment.breakGlass":      {Description: "Who may use --break-glass here (act during a freeze, skip approval; a review issue is opened). Absent: nobody."},
	"Environment.freeze":          {Description: "Present while the environment is frozen: mutating commands are refused. Written by /freeze, removed by /unfreeze."},
	"Environment.argocd":          {Description: "What daytwo does with Argo CD after a merge."},
	"Environment.workflows":       {Description: "GitHub Actions workflows people may have daytwo run (workflow_dispatch) in this environment, for any service."},

	"Rule.permission": {Description: "Minimum repository permission.", Enum: Permissions},
	"Rule.teams":      {Description: "Teams whose active members qualify, written org/team-slug."},
	"Rule.users":      {Description: "GitHub logins that qualify."},

	"Bounds.min": {Description: "Lowest replica count /scale accepts.", Minimum: ptr(0), Maximum: ptr(MaxReplicas), Default: 0},
	"Bounds.max": {Description: "Highest replica count /scale accepts; 0 or absent means no upper bound.", Minimum: ptr(0), Maximum: ptr(MaxReplicas), Default: 0},

	"Freeze.reason": {Description: "Why the environment is frozen."},
	"Freeze.by":     {Description: "GitHub login of who froze it."},
	"Freeze.since":  {Description: "When it was frozen (RFC 3339, UTC).", Pattern: timePattern, Examples: []any{"2026-11-20T10:00:00Z"}},

	"EnvArgoCD.sync":    {Description: "Ask Argo CD to sync after a merge (for applications without automated sync).", Default: false},
	"EnvArgoCD.timeout": {Description: "How long to wait for Synced and Healthy after a merge, a Go duration between 1s and 24h.", Pattern: durationPattern, Default: durationText(DefaultArgoCDTimeout), Examples: []any{"10m", "1h30m"}},

	"ServiceDefaults.overlay":    {Description: "Overlay directory template; takes {service} and {env}.", Default: DefaultOverlay, Examples: []any{"envs/{env}/{service}"}},
	"ServiceDefaults.argocdApp":  {Description: "Argo CD Application name template; takes {service} and {env}.", Default: DefaultArgoCDApp},
	"ServiceDefaults.catalog":    {Description: "Backstage catalog-info.yaml path template; takes {service}.", Default: DefaultCatalog},
	"ServiceDefaults.workload":   {Description: "Workload of services that name none; the name takes {service}. Absent: inferred from each environment's render."},
	"ServiceDefaults.requesters": {Description: "Requesters for every environment without a \"*\" rule, for the commands it does not list."},
	"ServiceDefaults.argocd":     {Description: "Argo CD behaviour of every environment: timeout fills environments without one, sync: true turns sync on everywhere."},

	"Service.name":         {Description: "Service name, a DNS label.", Required: true, Pattern: dnsLabelPattern},
	"Service.overlay":      {Description: "Overlay directory template; takes {service} and {env}. Default: defaults.overlay."},
	"Service.workload":     {Description: "The workload restart, scale, suspend and resume act on. Default: defaults.workload, else inferred from the render (the only workload, or the one named after the service)."},
	"Service.container":    {Description: "Container whose image set-image changes when the command names none. Default: inferred from the render (the container running the named image, or the workload's only container)."},
	"Service.image":        {Description: "Image name as in the kustomization's images[].name, without tag: the image set-image changes when given a tag alone.", Examples: []any{"ghcr.io/acme/checkout"}},
	"Service.images":       {Description: "Image names (as in images[].name, without tag) /promote carries. Absent: every image the source overlay pins that the target runs."},
	"Service.configMap":    {Description: "Name of the configMapGenerator /config edits. Default: inferred from the render (the overlay's only generated ConfigMap, or the one its workloads use)."},
	"Service.repository":   {Description: "owner/repo of the service's source; commands there act on this service.", Pattern: `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`},
	"Service.argocdApp":    {Description: "Argo CD Application name template. Default: defaults.argocdApp."},
	"Service.catalog":      {Description: "Backstage catalog-info.yaml path template. Default: defaults.catalog."},
	"Service.environments": {Description: "Environments the service deploys to; absent means all."},
	"Service.workflows":    {Description: "GitHub Actions workflows people may have daytwo run (workflow_dispatch) for this service, in every environment it deploys to."},

	"Workflow.name":       {Description: "The name people ask for it by; unique among the workflows of a service and its environments.", Required: true, Pattern: dnsLabelPattern},
	"Workflow.repository": {Description: "Where the workflow lives: gitops (the GitOps repository), service (the service's repository:) or owner/repo.", Pattern: `^(gitops|service|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+)$`, Default: WorkflowRepoGitOps},
	"Workflow.workflow":   {Description: "The workflow's file name under .github/workflows, or its id.", Required: true, Pattern: `^([A-Za-z0-9._-]+\.ya?ml|[1-9][0-9]{0,18})$`, Examples: []any{"deploy.yml"}},
	"Workflow.ref":        {Description: "Branch or tag the workflow runs from, pinned: --ref cannot change it. Absent: the repository's default branch, and --ref may name another."},

	"Workload.kind": {Description: "Workload kind. Absent: inferred from the render (the kind of the workload of that name).", Enum: WorkloadKinds},
	"Workload.name": {Description: "Workload name as the overlay's patches name it (before its namePrefix and nameSuffix); takes {service}. Absent: inferred from the render."},
}

// KeyDoc is the schema's description of a key, named "<Go type>.<key>"
// ("Environment.autoMerge"); "" for a key the schema does not have.
func KeyDoc(key string) string { return fieldDocs[key].Description }

// itemDocs constrain the elements of list fields.
var itemDocs = map[string]fieldDoc{
	"Rule.teams":           {Pattern: `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9][A-Za-z0-9_.-]*$`, Examples: []any{"acme/sre"}},
	"Rule.users":           {Pattern: `^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$`},
	"Service.environments": {Pattern: dnsLabelPattern},
	"Service.images":       {Examples: []any{"ghcr.io/acme/payments-api"}},
}

// JSONSchema is the JSON Schema (draft-07) of the config file, generated from the Go
// types and fieldDocs, with cmds as the keys requesters may name; docs/daytwo.schema.json
// is its output for daytwo's commands.
func JSONSchema(cmds Commands) ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}, commands: cmds.Governed()}
	root, err := g.object(reflect.TypeOf(Config{}))
	if err != nil {
		return nil, err
	}
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["$id"] = SchemaID
	root["title"] = "daytwo config (" + Path + ")"
	root["definitions"] = g.defs
	root["patternProperties"] = map[string]any{"^" + extensionPrefix: map[string]any{"description": "Ignored by daytwo: a place for YAML anchors."}}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the schema: %w", err)
	}
	return append(b, '\n'), nil
}

type schemaGen struct {
	defs     map[string]any
	commands []string
}

// object is the schema of a struct type: its properties, closed to other keys.
func (g *schemaGen) object(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		key := t.Name() + "." + name
		doc, ok := fieldDocs[key]
		if !ok {
			return nil, fmt.Errorf("schema: %s has no entry in fieldDocs", key)
		}
		s, err := g.typeSchema(f.Type)
		if err != nil {
			return nil, err
		}
		if item, ok := itemDocs[key]; ok {
			if items, isArray := s["items"].(map[string]any); isArray {
				apply(items, item)
			}
		}
		if ref, isRef := s["$ref"]; isRef {
			// Keywords beside $ref are ignored in draft-07: describe through allOf.
			s = map[string]any{"allOf": []any{map[string]any{"$ref": ref}}}
		}
		apply(s, doc)
		props[name] = s
		if doc.Required {
			required = append(required, name)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o, nil
}

func apply(s map[string]any, d fieldDoc) {
	set := func(k string, v any) {
		if v != nil {
			s[k] = v
		}
	}
	if d.Description != "" {
		set("description", d.Description)
	}
	if d.Pattern != "" {
		set("pattern", d.Pattern)
	}
	if len(d.Enum) > 0 {
		set("enum", d.Enum)
	}
	set("const", d.Const)
	set("default", d.Default)
	if d.Minimum != nil {
		set("minimum", *d.Minimum)
	}
	if d.Maximum != nil {
		set("maximum", *d.Maximum)
	}
	if d.MinItems > 0 {
		set("minItems", d.MinItems)
	}
	if len(d.Examples) > 0 {
		set("examples", d.Examples)
	}
}

func (g *schemaGen) typeSchema(t reflect.Type) (map[string]any, error) {
	switch t {
	case durationType, timeType:
		return map[string]any{"type": "string"}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Int:
		return map[string]any{"type": "integer"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Slice:
		items, err := g.typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		values, err := g.typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		names := append(slices.Clone(g.commands), AnyCommand)
		return map[string]any{"type": "object", "propertyNames": map[string]any{"enum": names}, "additionalProperties": values}, nil
	case reflect.Struct:
		if _, done := g.defs[t.Name()]; !done {
			g.defs[t.Name()] = nil // placeholder against recursion
			o, err := g.object(t)
			if err != nil {
				return nil, err
			}
			g.defs[t.Name()] = o
		}
		return map[string]any{"$ref": "#/definitions/" + t.Name()}, nil
	}
	return nil, fmt.Errorf("schema: no JSON type for %s", t)
}

// durationText is how a duration is written in the file and the schema ("10m", not "10m0s").
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
