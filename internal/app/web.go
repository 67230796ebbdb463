package app

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/sesamehq/sesame/internal/api/httpapi"
)

// routes is the HTTP listener's mux: the SES APIs, the links Sesame mails
// out, health, and in --dev the captured mail.
func (a *App) routes(api *httpapi.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /verify-email", a.verifyEmail)
	// Open pixel and click redirect (SES-BEHAVIOR §9).
	mux.HandleFunc("GET /t/open/{token}", a.tracking.Open)
	mux.HandleFunc("GET /t/click/{token}", a.tracking.Click)
	mux.Handle("GET /metrics", a.Metrics)      // Prometheus text format
	mux.HandleFunc("/sns/", a.SNS.ServePublic) // the signing certificate
	if a.cfg.Dev {
		mux.HandleFunc("GET /_aws/ses", a.captured)
	}
	// SNS's SubscribeURL and UnsubscribeURL are unsigned GETs on the root.
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsSNSPublic(r) {
			a.SNS.ServePublic(w, r)
			return
		}
		api.ServeHTTP(w, r)
	}))
	return mux
}

var verifyPage = template.Must(template.New("verify").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

// verifyEmail follows a verification link: it verifies the address, then
// redirects to the custom template's success or failure URL, or shows a page.
func (a *App) verifyEmail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, ok, err := a.Identities.ConfirmEmail(r.Context(), q.Get("account"), q.Get("identity"), q.Get("token"))
	if err != nil {
		a.log.Error("verify-email", "err", err)
		http.Error(w, "Verification failed; try again later.", http.StatusInternalServerError)
		return
	}
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	page := struct{ Title, Text string }{"Congratulations!", "You have successfully verified an email address. You can now start sending email from this address."}
	status := http.StatusOK
	if !ok {
		page = struct{ Title, Text string }{"Verification failed", "This verification link is invalid or has expired. Request a new verification email."}
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	verifyPage.Execute(w, page)
}

// captured lists mail kept by --dev, in the shape LocalStack uses for its
// /_aws/ses endpoint, so tools written for it work: ?id= and ?email= filter.
func (a *App) captured(w http.ResponseWriter, r *http.Request) {
	msgs, err := a.Queue.Captured(r.Context(), r.URL.Query().Get("id"), r.URL.Query().Get("email"))
	if err != nil {
		a.log.Error("captured mail", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"messages": msgs})
}
