// Package onboarding is how a clock gets its identity from the cloud, on
// its keypad and display, and the identity the clock then holds. It owns:
//
//   - the pure state machine (Machine.Next on a Model) and its screens;
//   - the run loop that performs each step's side effect and keeps the
//     progress across restarts (Run);
//   - the client of the cloud's onboarding HTTPS API (Client);
//   - the clock as onboarding sees it (Setup: the cloud target from the
//     config, the network check of the model's interfaces, the client),
//     and the network check's report for the console (WriteReport);
//   - the identity as the agent holds it (Keeper), for the status, the
//     sync and the console.
//
// The agent only starts Run and adopts the identity it returns. The
// identity's key, CSR, certificate and files are package
// onboarding/identity; the LAN-first network check is onboarding/netcheck.
package onboarding
