package org.flowfiji.bench;

/**
 * The sizes of every {@code flows bench} scenario.
 *
 * @param quick true for the shrunken sizes of {@link #quickSizes()}
 * @param trainSeconds wall-clock budget of each training scenario's timed run
 * @param trainWarmupSeconds wall-clock budget of the untimed run of the same scenario before it (0: none)
 * @param mapSide side of the single-plane map (full: 2048)
 * @param stackSide side of the stack map's planes (full: 1024)
 * @param stackPlanes planes of the stack map (full: 64)
 * @param sampleSide side of the sampled images (256)
 * @param sampleCount images drawn per architecture
 * @param scalingSides image sides of the map-scaling scenario (full: 1024, 2048, 4096, 8192 = 1, 4, 16, 64 MP)
 * @param childHeap -Xmx of the map-scaling child JVMs
 * @param flopsSide side of the image of the arithmetic-rate scenario
 * @param kernelSeconds how long each raw kernel (matmul, conv) and the density pass are repeated
 */
public record BenchSettings(
        boolean quick,
        double trainSeconds,
        double trainWarmupSeconds,
        int mapSide,
        int stackSide,
        int stackPlanes,
        int sampleSide,
        int sampleCount,
        int[] scalingSides,
        String childHeap,
        int flopsSide,
        double kernelSeconds) {

    /** The full sizes; takes many minutes on a laptop CPU. */
    public static BenchSettings fullSizes() {
        return new BenchSettings(false, 30, 10, 2048, 1024, 64, 256, 16, new int[] {1024, 2048, 4096, 8192}, "2g", 1024, 3);
    }

    /** Every scenario shrunk so that the whole run takes about a minute. */
    public static BenchSettings quickSizes() {
        return new BenchSettings(true, 3, 1, 512, 256, 4, 256, 2, new int[] {256, 512}, "1g", 256, 0.5);
    }

    /** These sizes with other training budgets; a negative value keeps this one's. */
    public BenchSettings withTraining(double seconds, double warmupSeconds) {
        return new BenchSettings(quick, seconds < 0 ? trainSeconds : seconds,
                warmupSeconds < 0 ? trainWarmupSeconds : warmupSeconds, mapSide, stackSide, stackPlanes,
                sampleSide, sampleCount, scalingSides, childHeap, flopsSide, kernelSeconds);
    }
}
