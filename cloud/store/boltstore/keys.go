package boltstore

// Every bucket and key of the cloud's bbolt file. Values are JSON of the
// store package's types; states inside them are persisted by name.
//
//	meta            "schema" -> "1"
//	companies       company ID -> Company
//	users           company ID NUL lower-case email -> User
//	sessions        session ID -> Session
//	session_by_clock  company ID NUL serial -> session ID (the newest)
//	devices         device ID -> Device
//	device_by_serial  company ID NUL serial -> device ID
//	admin_tokens    TokenHash(token) -> AdminToken
//	punches         device ID NUL punch ID -> Punch
//	commands        device ID NUL command ID -> Command
//	rosters         company ID -> Roster (header: version, salt)
//	roster_employees  company ID NUL employee ID -> RosterEmployee
//	user_by_email   lower-case email NUL company ID -> "" (logins across companies)
//	setup_secrets   company ID -> the setup code's secret (raw bytes)
//	roles           company ID NUL role ID -> Role
//	logins          TokenHash(cookie) -> LoginSession
//	mobile_installs       install ID (the cloud's) -> MobileInstall
//	mobile_by_app         company ID NUL the app's install ID -> install ID
//	mobile_by_token       TokenHash(install token) -> install ID
//	settings        "cloud" -> Settings (mail and SMS, from the set-up commands)
//	biometrics      company ID NUL device ID NUL seq (20 digits) -> BiometricRecord (consent and deletion records)
var (
	bucketMeta           = []byte("meta")
	bucketCompanies      = []byte("companies")
	bucketUsers          = []byte("users")
	bucketSessions       = []byte("sessions")
	bucketSessionByClock = []byte("session_by_clock")
	bucketDevices        = []byte("devices")
	bucketDeviceBySerial = []byte("device_by_serial")
	bucketAdminTokens    = []byte("admin_tokens")
	bucketPunches        = []byte("punches")
	bucketCommands       = []byte("commands")
	bucketRosters        = []byte("rosters")
	bucketRosterEmps     = []byte("roster_employees")

	bucketUserByEmail    = []byte("user_by_email")
	bucketSetupSecrets   = []byte("setup_secrets")
	bucketRoles          = []byte("roles")
	bucketLogins         = []byte("logins")
	bucketMobileInstalls = []byte("mobile_installs")
	bucketMobileByApp    = []byte("mobile_by_app")
	bucketMobileByToken  = []byte("mobile_by_token")
	bucketSettings       = []byte("settings")
	bucketBiometrics     = []byte("biometrics")

	allBuckets = [][]byte{bucketMeta, bucketCompanies, bucketUsers, bucketSessions,
		bucketSessionByClock, bucketDevices, bucketDeviceBySerial, bucketAdminTokens,
		bucketPunches, bucketCommands, bucketRosters, bucketRosterEmps,
		bucketUserByEmail, bucketSetupSecrets, bucketRoles, bucketLogins,
		bucketMobileInstalls, bucketMobileByApp, bucketMobileByToken, bucketSettings, bucketBiometrics}

	keySchema   = []byte("schema")
	keySettings = []byte("cloud")
)

// schemaVersion is bumped when a stored layout changes incompatibly.
// Buckets added later (punches, commands, rosters) are created on open and
// new record fields are optional, so those did not bump it.
const schemaVersion = "1"

// pair joins two key parts; NUL cannot occur in IDs, emails or serials
// (the API refuses control characters).
func pair(a, b string) []byte { return []byte(a + "\x00" + b) }

// prefix is the key prefix of everything under a.
func prefix(a string) []byte { return []byte(a + "\x00") }
