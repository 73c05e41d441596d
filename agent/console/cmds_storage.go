package console

func cmdStorage(cl *call) error {
	if len(cl.args) == 0 { // parse allows only "ack"
		fs, err := cl.c.agent.Storage()
		if err != nil {
			return err
		}
		printFields(cl, fs)
		return nil
	}
	about, ok := cl.c.agent.StorageNotice()
	if !ok {
		cl.printf("Nothing to clear: the clock's screen shows no storage notice.\n")
		return nil
	}
	cl.printf("%s\n", about)
	ok, err := cl.confirm(`Clear "Storage recovered, call service" from the clock's screen?`)
	if !ok || err != nil {
		return err
	}
	cleared, err := cl.c.agent.ClearStorageNotice()
	switch {
	case err != nil:
		return err
	case !cleared:
		cl.printf("Nothing to clear: the notice was already gone.\n")
		return nil
	}
	cl.c.log.Info("console: storage notice cleared")
	cl.printf("Storage notice cleared: the clock's screen no longer shows it. The damaged files stay in the state directory for service.\n")
	return nil
}
