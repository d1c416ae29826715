package http

import nethttp "net/http"

// registerWidgetRoutes adds the Kommo widget's endpoints (settings, setup,
// click-to-call, call lists and the realtime channel) to mux. Every one but
// the WebSocket itself goes through the widget middleware (CORS and
// X-Auth-Token); the WebSocket authenticates with a ticket.
func (s *Server) registerWidgetRoutes(mux *nethttp.ServeMux) {
	mux.Handle("GET /api/widget/settings", s.widget(s.handleGetSettings))
	mux.Handle("PUT /api/widget/settings", s.widget(s.handlePutSettings))
	mux.Handle("POST /api/widget/settings", s.widget(s.handlePutSettings))
	mux.Handle("POST /api/widget/prefs", s.widget(s.handlePutPrefs))
	mux.Handle("POST /api/widget/setup", s.widget(s.handleSetup))
	mux.Handle("GET /api/widget/extensions", s.widget(s.handleExtensions))

	mux.Handle("POST /api/widget/calls", s.widget(s.handlePlaceCall))

	mux.Handle("POST /api/widget/calllists", s.widget(s.handleCreateCallList))
	mux.Handle("GET /api/widget/calllists/open", s.widget(s.handleOpenCallList))
	mux.Handle("GET /api/widget/calllists/{id}", s.widget(s.handleGetCallList))
	mux.Handle("POST /api/widget/calllists/{id}/{action}", s.widget(s.handleCallListAction))

	mux.Handle("POST /api/widget/realtime/ticket", s.widget(s.handleRealtimeTicket))
	mux.HandleFunc("GET /api/widget/realtime", s.handleRealtime)
}
