/// Every column of the CSV report, in order, declared once: the header is the same
/// whatever the flags, so rows of different runs append to one table; a figure a run
/// did not measure is an empty cell. A new report field gets its column here (the
/// tests fail on a JSON field that has none). The report's `claims` are what `csgb
/// stat` checks, not figures, and have no columns.
public enum CSVColumns {
    /// The run itself. `transport` is empty for workloads that move no bytes, the
    /// ring settings and figures for `--io direct`.
    static let run: [String] = [
        "workload", "mode", "executor", "transport", "io", "n", "actors", "workers", "os_threads", "cpus",
        "pin", "work_size", "numa", "stride", "access", "seconds", "warmup_seconds", "warmup_complete", "warmup_note", "stopped_by",
        "suspension", "noise",
        "iterations", "iterations_per_second", "ns_per_iteration", "fairness_min", "fairness_max",
        "fairness_cv", "voluntary_switches", "involuntary_switches", "voluntary_switches_per_iteration",
        "involuntary_switches_per_iteration", "usage_missed_actors", "user_seconds", "system_seconds", "max_rss_bytes", "setup_seconds",
        "memory_per_actor_bytes", "resident_bytes_at_gate", "actor_process_bytes", "limits", "eagain", "failed_transfers", "broken_claims",
        "syscalls", "ring_entries", "sqpoll", "fixed_files", "ring_setup", "ring_link", "ring_links_per_iteration",
        "ring_cancelled", "io_uring_enter_per_iteration", "sqes_per_enter",
        "sqpoll_cpu_seconds", "sqpoll_pollers", "nice", "coordinator_nice", "sched", "coordinator_sched", "perf_sched", "perf_sched_note", "speculation_ibpb",
        "speculation_ssbd", "speculation_l1d-flush", "thread_settings_notes",
        "version",
    ]

    /// `--latency`.
    static let latency: [String] = [
        "latency_ns_samples", "latency_ns_sample_every", "latency_ns_p50", "latency_ns_p90", "latency_ns_p99",
        "latency_ns_p99_9", "latency_ns_max",
    ]

    /// `--phases`.
    static let phases: [String] = PhaseSummary.jsonFields(nil).map(\.0)

    /// `--counters`: the figures, then each event's status, count and running share.
    static let counters: [String] = [
        "counters_source", "counters_scope", "counters_threads", "counters_cpus", "counters_perf_descriptors",
        "counters_software_source", "counters_hardware", "counters_multiplexed",
        "counters_scaled", "counters_window_coverage", "counters_window_scaled", "counters_ipc",
        "counters_instructions_per_iteration", "counters_cycles_per_iteration",
        "counters_cache_misses_per_iteration", "counters_dtlb_load_misses_per_iteration",
        "counters_context_switches_per_iteration", "counters_task_clock_ns_per_iteration",
        "counters_user_share", "counters_user_ipc", "counters_user_instructions_per_iteration",
        "counters_user_cycles_per_iteration", "counters_user_cache_misses_per_iteration",
        "counters_user_dtlb_load_misses_per_iteration", "counters_kernel_ipc",
        "counters_kernel_instructions_per_iteration", "counters_kernel_cycles_per_iteration",
        "counters_kernel_cache_misses_per_iteration", "counters_kernel_dtlb_load_misses_per_iteration",
        "counters_events_instructions:u_status", "counters_events_instructions:u_count",
        "counters_events_instructions:u_running_share", "counters_events_instructions:k_status",
        "counters_events_instructions:k_count", "counters_events_instructions:k_running_share",
        "counters_events_cycles:u_status", "counters_events_cycles:u_count",
        "counters_events_cycles:u_running_share", "counters_events_cycles:k_status",
        "counters_events_cycles:k_count", "counters_events_cycles:k_running_share",
        "counters_events_cache-misses:u_status", "counters_events_cache-misses:u_count",
        "counters_events_cache-misses:u_running_share", "counters_events_cache-misses:k_status",
        "counters_events_cache-misses:k_count", "counters_events_cache-misses:k_running_share",
        "counters_events_dTLB-load-misses:u_status", "counters_events_dTLB-load-misses:u_count",
        "counters_events_dTLB-load-misses:u_running_share", "counters_events_dTLB-load-misses:k_status",
        "counters_events_dTLB-load-misses:k_count", "counters_events_dTLB-load-misses:k_running_share",
        "counters_events_context-switches_status", "counters_events_context-switches_count",
        "counters_events_context-switches_running_share", "counters_events_task-clock_status",
        "counters_events_task-clock_count", "counters_events_task-clock_running_share",
    ]

    /// What `csgb info` prints.
    static let environment: [String] = [
        "environment_hostname", "environment_cpu_model", "environment_online_cpus", "environment_allowed_cpus",
        "environment_numa_nodes", "environment_kernel", "environment_perf", "environment_perf_event_paranoid",
        "environment_hardware_pmu", "environment_io_uring", "environment_build", "environment_swift_stdlib",
        "environment_vulnerabilities", "environment_preemption", "environment_preemption_model",
        "environment_clocksource", "environment_smt", "environment_transparent_hugepages", "environment_governor",
        "environment_isolated_cpus", "environment_nohz_full", "environment_cmdline_isolation",
        "environment_hypervisor", "environment_damon", "environment_load_average",
    ]

    public static let all: [String] = run + latency + phases + counters + environment
}
