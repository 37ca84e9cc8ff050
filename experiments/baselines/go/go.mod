module csgb/baselines

go 1.19
