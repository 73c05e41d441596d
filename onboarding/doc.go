// Package onboarding is how a clock gets its identity from the cloud, on
// its keypad and display. It owns the pure state machine (Machine.Next on
// a Model) and its screens, the run loop that performs each step's side
// effect and keeps the progress across restarts (Run), and the client of
// the cloud's onboarding HTTPS API (Client).
//
// The identity itself (key, CSR, certificate, files) is package
// onboarding/identity; the LAN-first network check is onboarding/netcheck.
package onboarding
