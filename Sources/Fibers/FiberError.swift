import CSGBSystem

/// Why a green thread could not be set up. Descriptions are one line, fit to print.
public enum FiberError: Error, Equatable, Sendable, CustomStringConvertible {
    case stackTooSmall(bytes: Int, minimum: Int)
    case stackNotPageMultiple(bytes: Int, pageSize: Int)
    case stackTooLarge(bytes: Int, maximum: Int)
    /// mmap or mprotect of a stack failed (ENOMEM usually means vm.max_map_count:
    /// every stack is two mappings, its guard page and the stack itself).
    case stackMapFailed(bytes: Int, SystemError)
    /// The guard-page registry could not grow.
    case guardRegistryFull
    /// sigaction or sigaltstack for the overflow reporter failed.
    case signalSetupFailed(SystemError)
    /// No context switch for this CPU architecture (only x86_64 has one).
    case unsupportedArchitecture

    public var description: String {
        switch self {
        case let .stackTooSmall(bytes, minimum):
            return "green-thread stack size \(bytes) bytes is below the minimum of \(minimum) bytes"
        case let .stackTooLarge(bytes, maximum):
            return "green-thread stack size \(bytes) bytes is above the maximum of \(maximum) bytes"
        case let .stackNotPageMultiple(bytes, pageSize):
            return "green-thread stack size \(bytes) bytes is not a multiple of the page size (\(pageSize) bytes)"
        case let .stackMapFailed(bytes, error):
            return "a \(bytes)-byte green-thread stack: \(error); "
                + "each stack takes two memory mappings (see vm.max_map_count) and address space (ulimit -v)"
        case .guardRegistryFull:
            return "cannot register another green-thread guard page: out of memory"
        case let .signalSetupFailed(error):
            return "cannot install the green-thread stack-overflow handler: \(error)"
        case .unsupportedArchitecture:
            return "green threads need an x86_64 CPU (the context switch is x86_64 assembly)"
        }
    }
}
