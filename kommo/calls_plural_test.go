package kommo_test

import (
	"testing"

	"callbridge/kommo"
)

func TestPluralEntityType(t *testing.T) {
	for in, want := range map[string]string{"lead": "leads", "contact": "contacts", "company": "companies",
		"customer": "customers", "leads": "leads", "": ""} {
		if got := kommo.PluralEntityType(in); got != want {
			t.Errorf("PluralEntityType(%q)=%q, want %q", in, got, want)
		}
	}
}
