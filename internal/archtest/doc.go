// Package archtest holds the test that keeps the import direction of
// DESIGN.md: hal imports nothing of ours; drivers import hal; agent and
// onboarding use hal interfaces, never drivers or board; only board and
// cmd/* pick drivers; cloud never imports the device side; the agent's
// punch flow stays pure.
package archtest
