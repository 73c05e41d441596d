package netcheck

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"timeclock/clock"
)

// Advice is the screen text for a problem: a short title naming the cause,
// then sentences saying what it means and what to do. The screen wraps and
// pages them; no sentence relies on the line breaks of one display size.
type Advice struct {
	Title string
	Text  []string
	// CanContinue says onboarding may go on despite the problem (a port
	// other than HTTPS is blocked).
	CanContinue bool
}

// Advice returns the screen text for the first problem of the report, and
// false when there is none.
func (r Report) Advice() (Advice, bool) {
	st, ok := r.FirstProblem()
	if !ok {
		return Advice{}, false
	}
	switch st.Step {
	case StepLink:
		return r.linkAdvice(), true
	case StepAddress:
		return Advice{Title: "No IP address", Text: []string{
			r.Iface + " got no address from DHCP.",
			"Check the DHCP server and the switch port, or set a static address.",
		}}, true
	case StepRoute:
		return Advice{Title: "No gateway", Text: []string{
			r.Iface + " has no default route (gateway).",
			"Check the router and the DHCP settings.",
		}}, true
	case StepDNS:
		return r.dnsAdvice(st.Err), true
	case StepTCP:
		return r.portAdvice(), true
	case StepTLS:
		return r.tlsAdvice(st.Err), true
	}
	return Advice{Title: "Network problem", Text: []string{st.Detail}}, true
}

// AllowPorts is the sentence of the seed: every one of the four ports.
func (p Ports) AllowPorts() string {
	var s []string
	for _, n := range p.List() {
		s = append(s, strconv.Itoa(n))
	}
	return "Ask IT to allow ports " + strings.Join(s, ", ") + "."
}

func (r Report) linkAdvice() Advice {
	var lan, wifi []string
	for _, ifc := range r.Ifaces {
		if ifc.WiFi {
			wifi = append(wifi, ifc.Name)
		} else {
			lan = append(lan, ifc.Name)
		}
	}
	if len(lan) == 0 {
		return Advice{Title: "No WiFi link", Text: []string{
			"WiFi (" + strings.Join(wifi, ", ") + ") is not connected.",
			"Check the WiFi network settings with IT.",
		}}
	}
	return Advice{Title: "No network cable", Text: []string{
		"No link on the LAN port (" + strings.Join(lan, ", ") + ").",
		"Plug in the LAN cable and check the switch port light.",
	}}
}

func (r Report) dnsAdvice(err error) Advice {
	host := r.Target.Host
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return Advice{Title: "Cloud name unknown", Text: []string{
			"DNS does not know " + host + ".",
			"Check the cloud address, or ask IT to check the DNS server.",
		}}
	}
	return Advice{Title: "DNS failed", Text: []string{
		"No DNS answer for " + host + ".",
		"Check the DNS server (DHCP settings) with IT.",
	}}
}

func (r Report) portAdvice() Advice {
	var blocked, refused []string
	httpsDown := false
	for _, p := range r.Ports {
		if p.OK {
			continue
		}
		if p.Port == r.Target.Ports.HTTPS {
			httpsDown = true
		}
		if p.Refused {
			refused = append(refused, strconv.Itoa(p.Port))
		} else {
			blocked = append(blocked, strconv.Itoa(p.Port))
		}
	}
	allow := r.Target.Ports.AllowPorts()
	if len(blocked)+len(refused) == len(r.Ports) {
		if len(blocked) == 0 {
			return Advice{Title: "Cloud unreachable", Text: []string{
				"The cloud " + r.Target.Host + " refused ports " + strings.Join(refused, ", ") + ".",
				"The cloud may be down, or a firewall rejects the clock. Try again later.", allow,
			}}
		}
		return Advice{Title: "Cloud unreachable", Text: []string{
			"No answer from " + r.Target.Host + " on any port.",
			"A firewall may block the clock. " + allow,
		}}
	}
	var title string
	ports := append(append([]string{}, blocked...), refused...)
	switch {
	case len(ports) == 1 && len(blocked) == 1:
		title = "Port " + ports[0] + " blocked"
	case len(ports) == 1:
		title = "Port " + ports[0] + " closed"
	default:
		title = "Ports " + strings.Join(ports, ",") + " blocked"
	}
	a := Advice{Title: title, Text: []string{allow}}
	if httpsDown {
		a.Text = append(a.Text, "Setup needs port "+strconv.Itoa(r.Target.Ports.HTTPS)+".")
	} else {
		a.CanContinue = true
		a.Text = append(a.Text, "Setup can go on; the clock may sync slowly until then.")
	}
	return a
}

func (r Report) tlsAdvice(err error) Advice {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return Advice{Title: "Cloud not trusted", Text: []string{
			"The cloud's certificate is not from the CA the clock trusts.",
			"Check the cloud CA setting, or ask IT to exempt the cloud from HTTPS inspection.",
		}}
	case errors.As(err, &he):
		return Advice{Title: "Wrong certificate", Text: []string{
			"The certificate is not for " + r.Target.Host + ".",
			"Check the cloud address, or ask IT about an HTTPS proxy.",
		}}
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		if !clock.IsSet(r.LocalTime) && r.CloudTime.IsZero() {
			return Advice{Title: "Clock time unknown", Text: []string{
				"The clock's date is not set, so the certificate cannot be checked.",
				fmt.Sprintf("Allow port %d so the clock can read the time.", r.Target.Ports.HTTP),
			}}
		}
		return Advice{Title: "Certificate date bad", Text: []string{
			"The cloud's certificate is expired or the clock's date is wrong.",
			"Check the date, then try again.",
		}}
	}
	return Advice{Title: "Secure link failed", Text: []string{
		fmt.Sprintf("TLS to port %d failed.", r.Target.Ports.HTTPS),
		"A firewall or proxy may interfere. " + r.Target.Ports.AllowPorts(),
	}}
}

// LANAdvice is the screen for a clock that found only WiFi although it has
// a LAN port: the seed strongly suggests LAN for onboarding.
func LANAdvice(wifi string) Advice {
	return Advice{Title: "LAN suggested", CanContinue: true, Text: []string{
		"LAN strongly suggested for setup; only WiFi (" + wifi + ") is connected.",
		"Plug in the LAN cable and check again, or go on with WiFi.",
	}}
}
