package console

import "errors"

// UpdateReporter describes the over-the-air update slots and the last
// update's outcome; an agent without updates does not implement it.
type UpdateReporter interface {
	UpdateStatus() ([]Field, error)
}

func cmdUpdate(cl *call) error {
	u, ok := cl.c.agent.(UpdateReporter)
	if !ok {
		return errors.New("update: over-the-air updates are not in this build")
	}
	fs, err := u.UpdateStatus()
	if err != nil {
		return err
	}
	printFields(cl, fs)
	return nil
}
