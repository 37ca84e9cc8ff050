#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// What the kernel says about the machine and this process's surroundings.
public enum SystemIdentity {
    /// `uname -r`.
    public static var kernelRelease: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: names.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    /// `uname -v`: the build string, which names the preemption model (PREEMPT, PREEMPT_DYNAMIC…).
    public static var kernelVersion: String {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: names.version) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    public static var hostname: String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process's id.
    public static var processID: Int32 { getpid() }

    public static var onlineCPUs: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Every CPU the kernel was configured for, online or not: the bound of any
    /// number `sched_getcpu` returns.
    public static var configuredCPUs: Int { Int(sysconf(Int32(_SC_NPROCESSORS_CONF))) }

    /// The CPU the calling thread runs on now.
    @inlinable public static var currentCPU: Int { Int(csgb_current_cpu()) }

    public static func environmentVariable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The first `name` on PATH that this process may execute.
    public static func executable(named name: String) -> String? {
        let directories = (environmentVariable("PATH") ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// The path of this very binary (`/proc/self/exe`), so a child runs the same csgb.
    public static var executablePath: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
