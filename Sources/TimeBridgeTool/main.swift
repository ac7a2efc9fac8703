import TimeBridge

// The time bridge as an executable of its own (the `daybreak-time-bridge`
// product). `daybreak` run by the same name is the same program.
TimeBridgeMain.run(Array(CommandLine.arguments.dropFirst()))
