package org.slim4j.tools;

import org.slim4j.cuda.GpuTestMain;

/**
 * Runs the gpu-tagged training tests of the tools module without Maven, on the lent GPU machine
 * (bench/gpu/run-on-device.sh, classes packed by bench/gpu/pack.sh), through the cuda module's
 * {@link GpuTestMain#runGpuTests}. Exit status 1 if a test failed or none ran.
 */
public final class GpuTrainTestMain {
    private GpuTrainTestMain() {
    }

    public static void main(String[] args) throws ClassNotFoundException {
        // By name: GpuTrainTest is package-private in org.slim4j.tools.train.
        System.exit(GpuTestMain.runGpuTests(Class.forName("org.slim4j.tools.train.GpuTrainTest")) ? 0 : 1);
    }
}
