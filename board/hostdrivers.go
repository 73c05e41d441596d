package board

import (
	"periph.io/x/conn/v3/driver/driverreg"

	// Only the host drivers the clock models use are linked in: host.Init
	// would register every SoC periph knows (Allwinner, BeagleBone, C.H.I.P.,
	// Odroid, Pine64...), about 384 KiB of a binary that must stay under
	// 8 MiB. A model on another SoC adds its driver here.
	_ "periph.io/x/host/v3/bcm283x"   // the Raspberry Pi family's GPIO (the models' GPIOn names)
	_ "periph.io/x/host/v3/gpioioctl" // GPIO through the character devices, /dev/gpiochip*
	_ "periph.io/x/host/v3/sysfs"     // I2C and SPI buses: /dev/i2c-N, /dev/spidevB.C
)

// initHost registers and initialises the host drivers above.
func initHost() (*driverreg.State, error) { return driverreg.Init() }
