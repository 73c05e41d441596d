package httpapi

import (
	"net/http"
)

func (a *api) company(w http.ResponseWriter, r *http.Request) {
	req, e := decodeCompanyRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	resp, err := a.Onboarding.Company(r.Context(), source(r), req)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *api) code(w http.ResponseWriter, r *http.Request) {
	req, e := decodeCodeRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	resp, err := a.Onboarding.RequestCode(r.Context(), source(r), req)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *api) activate(w http.ResponseWriter, r *http.Request) {
	req, e := decodeActivateRequest(r.Body)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	resp, err := a.Onboarding.Activate(r.Context(), source(r), req)
	if err != nil {
		writeErr(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}
