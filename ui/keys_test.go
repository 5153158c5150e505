package ui

import "testing"

func TestKeyScopesDoNotCollide(t *testing.T) {
	for scope, bindings := range Keys.scopes() {
		seen := map[string]string{}
		for _, b := range bindings {
			for _, k := range b.Keys() {
				if other, ok := seen[k]; ok {
					t.Errorf("scope %s: key %q is both %q and %q", scope, k, other, b.Help().Desc)
				}
				seen[k] = b.Help().Desc
			}
		}
	}
}
