package ringcentral

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// subscriptionPath is the subscription resource.
const subscriptionPath = "/restapi/v1.0/subscription"

// Subscription is the state of a connection's webhook subscription after
// EnsureSubscription.
type Subscription struct {
	ID        string
	Status    string // Active (RingCentral also reports Blacklisted)
	ExpiresAt time.Time
	// Created is true when EnsureSubscription created it, Renewed when it
	// renewed an existing one; both false when nothing was needed.
	Created, Renewed bool
}

// subscriptionInfo is RingCentral's subscription resource.
type subscriptionInfo struct {
	ID             string   `json:"id"`
	Status         string   `json:"status"`
	EventFilters   []string `json:"eventFilters"`
	ExpirationTime string   `json:"expirationTime"`
	ExpiresIn      int64    `json:"expiresIn"`
	DeliveryMode   struct {
		TransportType     string `json:"transportType"`
		Address           string `json:"address"`
		VerificationToken string `json:"verificationToken"`
	} `json:"deliveryMode"`
}

// subscriptionList is GET /restapi/v1.0/subscription.
type subscriptionList struct {
	Records []subscriptionInfo `json:"records"`
}

// createSubscription is the body of POST /restapi/v1.0/subscription.
type createSubscription struct {
	EventFilters []string `json:"eventFilters"`
	DeliveryMode struct {
		TransportType     string `json:"transportType"`
		Address           string `json:"address"`
		VerificationToken string `json:"verificationToken"`
	} `json:"deliveryMode"`
	ExpiresIn int64 `json:"expiresIn"`
}

// EnsureSubscription makes sure RingCentral delivers the account's
// telephony-session events to webhookURL (the connection's public webhook
// URL) and returns the subscription. Call it when a connection is saved and
// then periodically (hourly is plenty): it is idempotent.
//
// It lists the app's subscriptions (GET /restapi/v1.0/subscription) and
// keeps the WebHook one whose address is webhookURL and whose filters
// include telephony sessions: an Active one expiring later than
// Options.RenewBefore is left alone; one expiring sooner is renewed (POST
// /restapi/v1.0/subscription/{id}/renew); a Blacklisted one, one with another
// verification token, and duplicates are deleted. When none is left it
// creates one (POST /restapi/v1.0/subscription with eventFilters
// [TelephonySessionsFilter], deliveryMode {transportType WebHook, address,
// verificationToken VerificationToken(conn)}, expiresIn
// Options.SubscriptionTTL). While creating, RingCentral sends the
// Validation-Token handshake to webhookURL, which must be served by
// callbridge's webhook handler wrapped in EchoValidationToken.
//
// Errors: EINVALID for a webhookURL that is not an absolute https (or http)
// URL or when RingCentral refuses the subscription (e.g. the handshake
// failed); EUNAUTHORIZED, EFORBIDDEN (the JWT's user lacks a permission),
// ERATELIMIT, and transient or uncertain EUNAVAILABLE.
func (c *Connector) EnsureSubscription(ctx context.Context, conn *callbridge.Connection, webhookURL string) (*Subscription, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The webhook URL must be an absolute https URL.")
	}
	token, err := VerificationToken(conn)
	if err != nil {
		return nil, err
	}
	data, err := c.api(ctx, conn, http.MethodGet, subscriptionPath, nil, false)
	if err != nil {
		return nil, err
	}
	var list subscriptionList
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral sent an unreadable subscription list.")
	}
	now := time.Now()
	var keep *subscriptionInfo
	for i := range list.Records {
		s := &list.Records[i]
		if !strings.EqualFold(s.DeliveryMode.TransportType, "WebHook") || s.DeliveryMode.Address != webhookURL {
			continue
		}
		usable := keep == nil && strings.EqualFold(s.Status, "Active") && hasSessionsFilter(s.EventFilters) &&
			(s.DeliveryMode.VerificationToken == "" || s.DeliveryMode.VerificationToken == token)
		if usable {
			keep = s
			continue
		}
		if err := c.deleteSubscription(ctx, conn, s.ID); err != nil {
			return nil, err
		}
	}
	if keep != nil {
		exp := expiry(keep, now)
		if exp.Sub(now) > c.renewBefore {
			return &Subscription{ID: keep.ID, Status: keep.Status, ExpiresAt: exp}, nil
		}
		data, err := c.api(ctx, conn, http.MethodPost, subscriptionPath+"/"+url.PathEscape(keep.ID)+"/renew", nil, true)
		switch {
		case err == nil:
			var s subscriptionInfo
			if err := json.Unmarshal(data, &s); err != nil {
				return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral sent an unreadable subscription.")
			}
			return &Subscription{ID: s.ID, Status: s.Status, ExpiresAt: expiry(&s, time.Now()), Renewed: true}, nil
		case callbridge.ErrorCode(err) != callbridge.ENOTFOUND:
			return nil, err
		}
		// Gone meanwhile: create a new one.
	}
	var body createSubscription
	body.EventFilters = []string{TelephonySessionsFilter}
	body.DeliveryMode.TransportType = "WebHook"
	body.DeliveryMode.Address = webhookURL
	body.DeliveryMode.VerificationToken = token
	body.ExpiresIn = int64(c.ttl / time.Second)
	data, err = c.api(ctx, conn, http.MethodPost, subscriptionPath, body, true)
	if err != nil {
		return nil, err
	}
	var s subscriptionInfo
	if err := json.Unmarshal(data, &s); err != nil || s.ID == "" {
		return nil, callbridge.Uncertain(err, "RingCentral sent an unreadable subscription.")
	}
	return &Subscription{ID: s.ID, Status: s.Status, ExpiresAt: expiry(&s, time.Now()), Created: true}, nil
}

// deleteSubscription cancels a subscription; one already gone is fine.
func (c *Connector) deleteSubscription(ctx context.Context, conn *callbridge.Connection, id string) error {
	if id == "" {
		return nil
	}
	_, err := c.api(ctx, conn, http.MethodDelete, subscriptionPath+"/"+url.PathEscape(id), nil, true)
	if err != nil && callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		return err
	}
	return nil
}

// hasSessionsFilter reports whether filters include the account's telephony
// sessions (RingCentral may spell "~" as the account id).
func hasSessionsFilter(filters []string) bool {
	for _, f := range filters {
		path, _, _ := strings.Cut(f, "?")
		rest, ok := strings.CutPrefix(path, "/restapi/v1.0/account/")
		if !ok {
			continue
		}
		acct, tail, _ := strings.Cut(rest, "/")
		if acct != "" && tail == "telephony/sessions" {
			return true
		}
	}
	return false
}

// expiry returns when a subscription expires.
func expiry(s *subscriptionInfo, now time.Time) time.Time {
	if t := parseTime(s.ExpirationTime, ""); !t.IsZero() {
		return t
	}
	if s.ExpiresIn > 0 {
		return now.Add(time.Duration(s.ExpiresIn) * time.Second)
	}
	return now
}

// EnsureWebhook implements callbridge.WebhookSubscriber.
func (c *Connector) EnsureWebhook(ctx context.Context, conn *callbridge.Connection, webhookURL string) error {
	_, err := c.EnsureSubscription(ctx, conn, webhookURL)
	return err
}
