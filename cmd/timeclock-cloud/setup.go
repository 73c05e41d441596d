package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"timeclock/clock"
	"timeclock/cloud"
	"timeclock/cloud/provision"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

// setupCommands are the production set-up subcommands (docs/cloud.md,
// "From nothing"): "timeclock-cloud company add", "user add", ...
var setupCommands = map[string]bool{"company": true, "user": true, "role": true, "token": true, "mail": true, "sms": true}

// listFlag is a flag given once per value (--permission A --permission B).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// setupCommand runs "timeclock-cloud NOUN VERB [flags]" on the store in
// --data (the cloud must be stopped: the store is one process's at a time).
// Passwords come from stdin (--password-stdin) or a file, never from the
// command line. It returns the exit code.
func setupCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "timeclock-cloud " + strings.Join(args[:min(2, len(args))], " ")
	if len(args) < 2 {
		fmt.Fprintf(stderr, "usage: timeclock-cloud %s add|... [flags] (see docs/cloud.md, From nothing)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "/var/lib/timeclock-cloud", "the cloud's data directory (its store)")
	company := fs.String("company", "", "the company's ID")
	var (
		id, cname, tz, email, uname, role, pwFile *string
		admin, pwStdin                            *bool
		perms                                     listFlag
		host, tlsMode, user, caFile, from         *string
		smsURL, tokFile                           *string
		port                                      *int
		tokStdin                                  *bool
	)
	password := func() {
		pwFile = fs.String("password-file", "", "read the password from this file (its first line)")
		pwStdin = fs.Bool("password-stdin", false, "read the password from stdin (its first line)")
	}
	verb := args[0] + " " + args[1]
	switch verb {
	case "company add":
		id = fs.String("id", "", "the company ID installers type on the clock (4 to 12 digits)")
		cname = fs.String("name", "", "the company's name, as the clock shows it to confirm")
		tz = fs.String("timezone", "", "the company's time zone (IANA, e.g. America/Chicago)")
	case "user add":
		email = fs.String("email", "", "the user's email (their login, and where administrators get codes)")
		uname = fs.String("name", "", "the user's name")
		admin = fs.Bool("administrator", false, "the administrator profile: gets the clocks' authentication codes, every permission")
		role = fs.String("role", "", "the security role of a non-administrator (its ID)")
		password()
	case "user password":
		email = fs.String("email", "", "the user's email")
		password()
	case "user role":
		email = fs.String("email", "", "the user's email")
		role = fs.String("role", "", `the security role's ID ("" takes the role away)`)
	case "role add":
		id = fs.String("id", "", "the role's ID (lower-case letters, digits, dashes)")
		cname = fs.String("name", "", "the role's name, as the Security Roles page shows it")
		fs.Var(&perms, "permission", "a permission the role grants; repeat the flag for more (e.g. mobile_devices.view)")
	case "token add":
		email = fs.String("email", "", "the user the token acts as")
	case "mail set":
		host = fs.String("host", "", "the SMTP server")
		port = fs.Int("port", 587, "its port")
		tlsMode = fs.String("tls", "starttls", "starttls, tls (implicit, port 465) or none (a relay on this machine only)")
		user = fs.String("user", "", "the AUTH user (the password with --password-stdin or --password-file)")
		caFile = fs.String("ca", "", "a PEM file of CAs to trust for the server (default: the system's)")
		from = fs.String("from", "", "the From of every mail (default Timeclock Cloud <noreply@PUBLIC-HOST>)")
		password()
	case "sms set":
		smsURL = fs.String("url", "", "the provider's URL, one POST per message")
		user = fs.String("user", "", "HTTP Basic user (account SID style); otherwise the token is a Bearer token")
		from = fs.String("from", "", "the sending number or sender ID")
		tokFile = fs.String("token-file", "", "read the provider's token from this file (its first line)")
		tokStdin = fs.Bool("token-stdin", false, "read the provider's token from stdin (its first line)")
	default:
		fmt.Fprintf(stderr, "timeclock-cloud: unknown command %q; the set-up commands are company add, user add|password|role, role add, token add, mail set, sms set\n", verb)
		return 2
	}
	if err := fs.Parse(args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		// Not echoed: it may be a password typed where it does not belong.
		fmt.Fprintf(stderr, "%s: %d unexpected arguments (not shown); every value goes with its flag, and passwords only through --password-stdin or --password-file\n", name, fs.NArg())
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	pw := ""
	if pwFile != nil && (*pwFile != "" || *pwStdin) {
		var err error
		if pw, err = readPassword(*pwFile, *pwStdin, stdin); err != nil {
			return fail(err)
		}
	}
	if verb == "user password" && pw == "" {
		return fail(errors.New("give the new password with --password-stdin or --password-file"))
	}
	if verb == "mail set" && *user != "" && pw == "" {
		return fail(errors.New("give the SMTP password with --password-stdin or --password-file"))
	}
	tok := ""
	if tokFile != nil {
		if *tokFile == "" && !*tokStdin {
			return fail(errors.New("give the provider's token with --token-stdin or --token-file"))
		}
		var err error
		if tok, err = readPassword(*tokFile, *tokStdin, stdin); err != nil {
			return fail(fmt.Errorf("token: %w", err))
		}
	}
	ca := ""
	if caFile != nil && *caFile != "" {
		b, err := os.ReadFile(*caFile)
		if err != nil {
			return fail(fmt.Errorf("ca: %w", err))
		}
		ca = string(b)
	}
	if verb != "company add" && args[0] != "mail" && args[0] != "sms" && *company == "" {
		return fail(errors.New("--company: missing"))
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return fail(err)
	}
	db, err := boltstore.Open(filepath.Join(*data, cloud.StoreFile))
	if errors.Is(err, boltstore.ErrLocked) {
		return fail(fmt.Errorf("%w: stop the cloud first (the store is one process's at a time)", err))
	}
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	a := provision.Admin{Store: db, Clock: clock.Real{}}
	ctx := context.Background()
	switch verb {
	case "company add":
		err = a.AddCompany(ctx, store.Company{ID: *id, Name: *cname, Timezone: *tz})
		if err == nil {
			fmt.Fprintf(stdout, "company %s (%s) created\n", *id, strings.TrimSpace(*cname))
		}
	case "user add":
		err = a.AddUser(ctx, store.User{CompanyID: *company, Email: *email, Name: *uname, Administrator: *admin, RoleID: *role}, pw)
		if err == nil {
			what := "user"
			if *admin {
				what = "administrator"
			}
			fmt.Fprintf(stdout, "%s %s of company %s created\n", what, *email, *company)
		}
	case "user password":
		err = a.SetPassword(ctx, *company, *email, pw)
		if err == nil {
			fmt.Fprintf(stdout, "password of %s set\n", *email)
		}
	case "user role":
		err = a.AssignRole(ctx, *company, *email, *role)
		if err == nil {
			fmt.Fprintf(stdout, "role of %s: %q\n", *email, *role)
		}
	case "role add":
		err = a.AddRole(ctx, store.Role{CompanyID: *company, ID: *id, Name: *cname, Permissions: perms})
		if err == nil {
			fmt.Fprintf(stdout, "role %s of company %s created\n", *id, *company)
		}
	case "token add":
		var tok string
		tok, err = a.NewToken(ctx, *company, *email)
		if err == nil {
			// Printed once, for the operator to keep; the store has its hash.
			fmt.Fprintf(stdout, "admin token: %s\n", tok)
		}
	case "mail set":
		err = a.SetMail(ctx, store.SMTPSettings{Host: *host, Port: *port, TLS: *tlsMode, User: *user, Password: pw, CAPEM: ca, From: *from})
		if err == nil {
			fmt.Fprintf(stdout, "mail server %s:%d stored; the cloud uses it when started without --smtp-host\n", *host, *port)
		}
	case "sms set":
		err = a.SetSMS(ctx, store.SMSSettings{URL: *smsURL, User: *user, Token: tok, From: *from})
		if err == nil {
			fmt.Fprintln(stdout, "SMS provider stored; the cloud uses it when started without --sms-url")
		}
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// readPassword reads the first line of a file or of stdin.
func readPassword(file string, fromStdin bool, stdin io.Reader) (string, error) {
	if file != "" && fromStdin {
		return "", errors.New("give --password-file or --password-stdin, not both")
	}
	r := stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("the password is empty")
	}
	return line, nil
}
