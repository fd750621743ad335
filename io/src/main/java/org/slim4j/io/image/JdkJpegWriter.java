package org.slim4j.io.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** JPEG encoding through the JDK's libjpeg-based ImageIO writer (needs the java.desktop module). */
final class JdkJpegWriter {
    private JdkJpegWriter() {
    }

    /** JPEG of {@code h*w*c} HWC bytes (c = 1 gray or 3 RGB) at {@code off}, quality 1..100 (checked by the caller). */
    static byte[] encode(byte[] src, int off, int h, int w, int c, int quality) {
        BufferedImage bi = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) bi.getRaster().getDataBuffer()).getData();
        if (c == 1) {
            System.arraycopy(src, off, dst, 0, h * w);
        } else {
            for (int i = 0, n = h * w; i < n; i++) { // HWC RGB → the BufferedImage's BGR
                dst[3 * i] = src[off + 3 * i + 2];
                dst[3 * i + 1] = src[off + 3 * i + 1];
                dst[3 * i + 2] = src[off + 3 * i];
            }
        }
        Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg");
        if (!it.hasNext()) throw new IllegalStateException("no JPEG writer available in this JVM");
        ImageWriter writer = it.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(ios);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality / 100f);
            writer.write(null, new IIOImage(bi, null, null), p);
        } catch (IOException e) {
            throw new UncheckedIOException("jpeg: encoding failed", e);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
