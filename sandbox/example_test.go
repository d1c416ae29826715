package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"callbridge/sandbox"
)

// Example seeds an account, installs the integration, exchanges the code
// and logs a call: Kommo's rule puts it on the caller's only open lead.
func Example() {
	emu := sandbox.New(sandbox.Config{ClientID: "client", ClientSecret: "secret"})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	emu.SetHost(srv.Listener.Addr().String())

	seeded, err := emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{
		Subdomain: "acme",
		Contacts:  []sandbox.SeedContact{{Ref: "ann", Name: "Ann", Phones: []string{"+1 415 555 0100"}}},
		Leads:     []sandbox.SeedLead{{Ref: "deal", Name: "Website", Contacts: []string{"ann"}}},
	}}})
	if err != nil {
		panic(err)
	}
	// With no RedirectURI configured, Install only issues the code.
	code, err := emu.Install(context.Background(), seeded.Accounts[0].ID, "")
	if err != nil {
		panic(err)
	}
	resp, err := http.Post(srv.URL+"/oauth2/access_token", "application/json", strings.NewReader(
		`{"client_id":"client","client_secret":"secret","grant_type":"authorization_code","code":"`+code+`"}`))
	if err != nil {
		panic(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/api/v4/calls", strings.NewReader(
		`[{"direction":"inbound","duration":60,"source":"callbridge","phone":"4155550100","uniq":"CA123"}]`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var out struct {
		Embedded struct {
			Calls []struct {
				EntityType string `json:"entity_type"`
				EntityID   int64  `json:"entity_id"`
			} `json:"calls"`
		} `json:"_embedded"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	c := out.Embedded.Calls[0]
	fmt.Println(resp.StatusCode, c.EntityType, c.EntityID == seeded.Accounts[0].Leads["deal"])

	note := emu.State().Accounts[0].Notes[0]
	fmt.Println(note.NoteType, note.Params["uniq"], note.Params["duration"])
	// Output:
	// 200 lead true
	// call_in CA123 60
}
