#if canImport(Glibc)
import Glibc
#endif
import CCSGB

/// A joinable pthread with a name and a small stack, running one Swift closure.
/// Thousands of these run in thread mode, so the stack is sized explicitly.
public final class OSThread {
    private var handle: pthread_t
    private var joined = false

    private final class Start {
        let body: () -> Void
        let name: String
        init(body: @escaping () -> Void, name: String) { self.body = body; self.name = name }
    }

    /// The stack of each actor thread: enough for the interpreter and Swift's
    /// runtime, small enough for 20,000 threads.
    public static let defaultStackSize = 256 * 1024

    public init(name: String, stackSize: Int = OSThread.defaultStackSize, body: @escaping () -> Void) throws(SystemError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let start = Unmanaged.passRetained(Start(body: body, name: name)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, osThreadEntry, start)
        if rc != 0 {
            Unmanaged<Start>.fromOpaque(start).release()
            throw SystemError("pthread_create", Errno(rc))
        }
        handle = thread
    }

    /// The calling thread's kernel id (gettid).
    public static var currentID: Int32 { csgb_gettid() }

    public func join() {
        if joined { return }
        joined = true
        pthread_join(handle, nil)
    }

    fileprivate static func run(_ raw: UnsafeMutableRawPointer) {
        let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
        // Always set: a thread started from a Dispatch worker would inherit its name.
        csgb_set_thread_name(start.name)
        start.body()
    }
}

private func osThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    OSThread.run(raw!)
    return nil
}
