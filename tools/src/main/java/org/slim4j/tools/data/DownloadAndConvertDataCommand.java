package org.slim4j.tools.data;

import java.io.PrintStream;
import java.nio.file.Path;
import org.slim4j.io.convert.ConvertedFile;
import org.slim4j.io.convert.DownloadAndConvert;
import org.slim4j.io.download.Downloader;
import org.slim4j.io.download.Progress;
import org.slim4j.io.tfrecord.TfRecordReader;
import org.slim4j.tools.Command;
import org.slim4j.tools.Flags;
import org.slim4j.tools.Main;
import org.slim4j.tools.UsageException;

/**
 * {@code slim4j download_and_convert_data}: TF-Slim's {@code download_and_convert_data.py}, with
 * fashion_mnist added and {@code --source} to convert local files (or another URL) instead of
 * downloading the official ones.
 */
public final class DownloadAndConvertDataCommand implements Command {
    private final Flags flags = new Flags("download_and_convert_data");
    private final Flags.Flag<String> datasetName = flags.choice("dataset_name", null, DownloadAndConvert.NAMES,
            "the dataset to convert").required();
    private final Flags.Flag<Path> datasetDir = flags.path("dataset_dir", null,
            "folder where the TFRecord files and labels.txt are written (created if needed)").required();
    private final Flags.Flag<String> source = flags.string("source", "",
            "a local folder or archive (.tar.gz/.tgz/.zip/.gz) with the original files, or an http(s)/file URL, "
                    + "used instead of the official download; e.g. /usr/share/datasets/fashion-mnist");
    private final Flags.Flag<Boolean> overwrite = flags.bool("overwrite", false,
            "convert again even when the converted files already exist");
    private final Flags.Flag<Integer> numThreads = flags.integer("num_threads", 0,
            "image encoding/decoding threads (0: one per processor)");
    private final Flags.Flag<Boolean> skipCorrupt = flags.bool("skip_corrupt_records", false,
            "flowers: skip photos that cannot be decoded (each is reported) instead of failing");

    @Override
    public String name() {
        return "download_and_convert_data";
    }

    @Override
    public String description() {
        return "download mnist, fashion_mnist, cifar10 or flowers and convert it to TF-Slim's TFRecord files";
    }

    @Override
    public Flags flags() {
        return flags;
    }

    @Override
    public int run(PrintStream out, PrintStream err) throws Exception {
        if (numThreads.get() < 0) throw new UsageException(name() + ": invalid value '" + numThreads.get() + "' for flag --num_threads: must be >= 0");
        Path dir = datasetDir.get();
        String src = source.get().isEmpty() ? null : source.get();
        Downloader downloader = new Downloader(out, out == System.out && Progress.stdoutIsTerminal(), 30_000, 60_000, 3);
        DownloadAndConvert.Options o = new DownloadAndConvert.Options(src, overwrite.get(), numThreads.get(), skipCorrupt.get(), downloader);
        DownloadAndConvert.Result result;
        try {
            result = DownloadAndConvert.run(datasetName.get(), dir, o, out);
        } catch (IllegalArgumentException e) {
            throw new UsageException(name() + ": " + e.getMessage());
        }
        // Read every written file back (framing and both CRCs), so a bad disk or a bug shows here, not in training.
        long total = 0;
        for (ConvertedFile f : result.files()) {
            long n = TfRecordReader.count(f.path(), TfRecordReader.Options.defaults());
            if (n != f.records()) throw new java.io.IOException(f.path() + ": wrote " + f.records() + " records but read back " + n);
            total += n;
        }
        if (!result.files().isEmpty()) out.println("verified: " + total + " records read back from " + result.files().size() + " files in " + dir);
        return Main.EXIT_OK;
    }
}
