package http

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"time"

	"callbridge"
)

// Realtime tickets are stateless: any replica holding the same TicketKey
// can redeem a ticket another one issued. A ticket is the base64url
// encoding (76 characters) of
//
//	version (1 byte, 1) | account id (8) | Kommo user id (8) |
//	expiry (8, unix milliseconds) | nonce (16, random) | MAC (16)
//
// where MAC is the first 16 bytes of HMAC-SHA256(TicketKey, label | the
// bytes before it). Integers are big-endian. The MAC binds the account and
// the user: a ticket names exactly one of each and cannot be altered.
//
// Single use. With a RealtimeStore the nonce is claimed in the database
// (ClaimRealtime) when the ticket is redeemed, so a ticket opens one
// connection in the whole cluster. A per-replica map of used nonces would
// be cheaper but not enough: the ticket travels in the WebSocket URL's
// query string, which proxies and load balancers log, and with N replicas
// a replayed ticket would open up to N-1 more connections as the user
// (receiving the user's callers' numbers and names) during its lifetime.
// The claim costs one small insert per connection opened, which is nothing
// next to the connection itself. The claim outlives the ticket by
// ticketClaimMargin, so that a replica whose clock lags cannot accept a
// ticket whose claim a replica whose clock runs ahead has already purged.
// Without a store (one process) the used nonces are kept in memory.

const (
	ticketVersion = 1
	ticketNonce   = 16
	ticketMAC     = 16
	ticketBody    = 1 + 8 + 8 + 8 + ticketNonce
	ticketLen     = ticketBody + ticketMAC
	ticketLabel   = "callbridge realtime ticket\x00"
	// MinTicketKey is the shortest RealtimeConfig.TicketKey accepted, in
	// bytes.
	MinTicketKey = 16
	// ticketClaimMargin is how long a redeemed ticket's claim outlives the
	// ticket.
	ticketClaimMargin = 5 * time.Minute
	// maxUsedTickets bounds the used nonces kept in memory without a store.
	maxUsedTickets = 100_000
)

func badTicket() error {
	return callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid or expired realtime ticket.")
}

func (rt *Realtime) ticketMAC(body []byte) []byte {
	m := hmac.New(sha256.New, rt.ticketKey)
	m.Write([]byte(ticketLabel))
	m.Write(body)
	return m.Sum(nil)[:ticketMAC]
}

// issueTicket returns a new single-use ticket for the user of the account,
// valid for TicketTTL, and its expiry.
func (rt *Realtime) issueTicket(accountID, userID int64) (string, time.Time, error) {
	exp := time.UnixMilli(rt.now().Add(rt.cfg.TicketTTL).UnixMilli()).UTC()
	b := make([]byte, ticketBody, ticketLen)
	b[0] = ticketVersion
	binary.BigEndian.PutUint64(b[1:], uint64(accountID))
	binary.BigEndian.PutUint64(b[9:], uint64(userID))
	binary.BigEndian.PutUint64(b[17:], uint64(exp.UnixMilli()))
	_, _ = rand.Read(b[25:ticketBody])
	b = append(b, rt.ticketMAC(b)...)
	return base64.RawURLEncoding.EncodeToString(b), exp, nil
}

// redeem checks a ticket and consumes it. A ticket works once, before it
// expires. It returns EUNAUTHORIZED for a ticket that is forged, expired or
// used, and a transient EUNAVAILABLE error when the store cannot record
// the redemption.
func (rt *Realtime) redeem(ctx context.Context, t string) (accountID, userID int64, err error) {
	if len(t) != base64.RawURLEncoding.EncodedLen(ticketLen) {
		return 0, 0, badTicket()
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) != ticketLen || b[0] != ticketVersion {
		return 0, 0, badTicket()
	}
	if !hmac.Equal(b[ticketBody:], rt.ticketMAC(b[:ticketBody])) {
		return 0, 0, badTicket()
	}
	accountID = int64(binary.BigEndian.Uint64(b[1:]))
	userID = int64(binary.BigEndian.Uint64(b[9:]))
	exp := time.UnixMilli(int64(binary.BigEndian.Uint64(b[17:])))
	now := rt.now()
	if accountID <= 0 || !now.Before(exp) {
		return 0, 0, badTicket()
	}
	nonce := hex.EncodeToString(b[25:ticketBody])
	if rt.cfg.Store != nil {
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		ok, err := rt.cfg.Store.ClaimRealtime(cctx, "ticket:"+nonce, now, exp.Add(ticketClaimMargin))
		if err != nil {
			return 0, 0, unavailable(err)
		}
		if !ok {
			return 0, 0, badTicket()
		}
		return accountID, userID, nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if _, used := rt.usedTickets[nonce]; used {
		return 0, 0, badTicket()
	}
	if len(rt.usedTickets) >= maxUsedTickets {
		for k, until := range rt.usedTickets {
			if !now.Before(until) {
				delete(rt.usedTickets, k)
			}
		}
		if len(rt.usedTickets) >= maxUsedTickets {
			return 0, 0, &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, RetryAfter: rt.cfg.TicketTTL,
				Message: "Too many realtime connections are being opened; try again shortly."}
		}
	}
	rt.usedTickets[nonce] = exp
	return accountID, userID, nil
}
