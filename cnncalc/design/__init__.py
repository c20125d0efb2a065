"""Design tools: questions asked of a network rather than about it (training cost, the
inverse shape problem, sweeps). Each module is a pure function of the IR and its options."""
