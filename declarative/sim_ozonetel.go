package declarative

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"callbridge"
)

// ozonetelRequests plays Ozonetel CloudAgent: one call summary after the
// call ends (POST /status, form field "data" holding JSON), with the
// account's API key echoed in Apikey. Inbound calls have Type "inbound";
// click-to-call (Agent Manual Dial) calls have Type "Manual". Durations are
// HH:MM:SS, times naive in TimeZone (default Asia/Kolkata), the recording a
// plain-HTTP AudioFile.
func (s *Simulator) ozonetelRequests(spec CallSpec) []*Request {
	t0, ucid := spec.Start, spec.CallID
	typ, dialed := "inbound", spec.Agent
	if spec.Direction == callbridge.DirectionOutbound {
		typ, dialed = "Manual", spec.Customer
	}
	var end time.Time
	status, custStatus, agentStatus, dialStatus := "NotAnswered", "not_answered", "not_answered", "not_answered"
	talk, toAnswer := 0, 0
	switch {
	case spec.Answered:
		status, custStatus, agentStatus, dialStatus = "Answered", "answered", "answered", "answered"
		talk, toAnswer = spec.Duration, int(simRing/time.Second)
		end = t0.Add(simRing + time.Duration(spec.Duration)*time.Second)
	case spec.Busy:
		custStatus, dialStatus = "Busy", "busy"
		end = t0.Add(3 * time.Second)
	case spec.Failed:
		custStatus, dialStatus = "InvalidNumber", "invalid_number"
		end = t0.Add(2 * time.Second)
	default:
		custStatus, dialStatus = "NoResponse", "not_answered"
		end = t0.Add(simNoAnswer)
	}
	if spec.Direction != callbridge.DirectionOutbound {
		// Inbound: the customer reached the IVR; it is the agent who did not answer.
		if !spec.Answered {
			custStatus, agentStatus = "answered", dialStatus
		}
	}
	hms := func(d int) string { return fmt.Sprintf("%02d:%02d:%02d", d/3600, d/60%60, d%60) }
	audio := ""
	if spec.Recording && spec.Answered {
		audio = s.RecordingURL(ucid)
	}
	data := map[string]any{
		"monitorUCID": ucid, "UUI": "", "Did": national(spec.Line), "CampaignName": s.cred("campaign_name"),
		"Location": "", "CallerID": national(spec.Customer), "PhoneName": "", "Skill": "None",
		"StartTime": s.naive(t0), "EndTime": s.naive(end), "TimeToAnswer": hms(toAnswer),
		"CallDuration": hms(int(end.Sub(t0) / time.Second)), "Duration": hms(talk),
		"FallBackRule": "AgentDial", "DialedNumber": national(dialed), "Type": typ,
		"AgentID": spec.Agent, "AgentPhoneNumber": "", "AgentUniqueID": "1001", "AgentName": spec.Agent,
		"Disposition": "", "HangupBy": "CustomerHangup", "Status": status, "AudioFile": audio,
		"TransferType": "No Transfers", "TransferredTo": "", "Comments": "", "DialStatus": dialStatus,
		"Apikey": s.cred("api_key"), "AgentStatus": agentStatus, "CustomerStatus": custStatus,
		"UserName": s.cred("username"), "CallerConfAudioFile": "", "ConfDuration": "00:00:00", "CampaignStatus": "ONLINE",
	}
	b, _ := json.Marshal(data)
	form := url.Values{"data": {string(b)}}
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "CloudAgent")
	at := end.Add(2 * time.Second)
	return []*Request{{Kind: "status", CallID: ucid, Status: status, At: at, Method: http.MethodPost,
		URL: s.hook("status", nil), Header: h, Body: []byte(form.Encode())}}
}
