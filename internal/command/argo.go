package command

// syncSpec is /sync: Argo CD syncs the service's Application now. It changes what runs
// without a change in Git, so it is External: --dry-run checks it, a freeze refuses it.
func syncSpec() Spec {
	return Spec{
		Name:    "sync",
		Summary: "Ask Argo CD to sync a service's Application now, and report how it ends",
		Description: "Asks Argo CD to sync the service's Application in the environment to its target revision, as Sync in " +
			"Argo CD does, and follows the sync to its end: the answer gives the revision the app runs, its sync status and " +
			"its health. Argo CD refreshes the app first; an app already synced to its target revision is left alone. " +
			"Nothing changes in Git, so what a daytwo pull request that is not merged yet carries is not synced. " +
			"A frozen environment refuses it, except with --break-glass.",
		Mutating: true,
		External: true,
		Examples: []Example{
			{"/sync --service checkout --env prod", "sync checkout's prod Application and report its health"},
			{"/sync -e prod --dry-run", "show the app's revision and what a sync would deploy, without syncing"},
		},
		Form: &FormSpec{
			Name:        "sync",
			Description: "Ask Argo CD to sync a service's Application in one environment.",
			Intro:       "Asks Argo CD to sync the service's Application to what the GitOps repository holds, and reports the revision it runs, its sync status and its health.",
			Env:         "The environment whose Application to sync.",
			EnvExample:  "prod",
			Reason:      "Why this is needed. It stays in this issue.",
		},
	}
}

// refreshSpec is /refresh: Argo CD compares the Application with Git now. It changes
// nothing in Git or in what the cluster should run, so it is neither a change (no
// --dry-run, no freeze) nor read-only: it makes Argo CD work, and an app with automated
// sync may start syncing what it finds. Who may ask is the environment's refresh rule,
// write permission by default.
func refreshSpec() Spec {
	return Spec{
		Name:    "refresh",
		Summary: "Ask Argo CD to compare a service's Application with Git now",
		Description: "Asks Argo CD to refresh the service's Application in the environment: to compare what Git holds with " +
			"what runs now rather than at its next poll. --hard also regenerates the manifests instead of using Argo CD's " +
			"cache, as `argocd app get --hard-refresh` does. The answer gives the revision Argo CD compared with, the sync " +
			"status and the health. Nothing changes in Git or in the cluster, except that an app with automated sync may " +
			"start syncing what the refresh found.",
		Examples: []Example{
			{"/refresh --service checkout --env prod", "compare checkout's prod Application with Git now"},
			{"/refresh --hard -e staging", "regenerate the manifests too, bypassing Argo CD's cache"},
		},
		Flags: func(fs *FlagSet, c *Command) {
			fs.Bool("hard", "", "regenerate the manifests instead of using Argo CD's cache", &c.Hard)
		},
	}
}
