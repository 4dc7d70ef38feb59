/* Runtime page: keeps the log view bounded and usable. Streams and swaps are htmx's.
 *
 * - followed lines arrive as SSE "lines" events (htmx's sse extension); they are appended
 *   here, once per animation frame, as one .chunk element per frame (the browser then skips
 *   layout and paint of whole off-screen chunks), then the view keeps at most
 *   data-max-lines lines, applies the filter to the new ones and stays scrolled to the
 *   bottom if it was there;
 * - the filter, the timestamps toggle and "show more" of long lines work in the page only;
 * - after a status update, the container picker's labels follow the containers' states.
 */
(function () {
  "use strict";

  const STICK_PX = 40; // this close to the bottom counts as "at the bottom"
  const CHUNK_LINES = 100; // lines per .chunk: the unit the browser lays out (or skips) at once
  const FRAME_LINES = 1000; // at most this many lines are parsed per frame; the rest wait for the next
  const FILTER_DELAY_MS = 120;

  function view() { return document.querySelector(".log-view"); }
  function linesOf(logView) { return logView.querySelector(".log-lines"); }
  function maxLines(logView) { return parseInt(logView.dataset.maxLines, 10) || 5000; }
  function filterText() {
    const input = document.getElementById("log-filter");
    return input ? input.value.trim().toLowerCase() : "";
  }
  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX; }

  // -- keeping the view bounded --------------------------------------------------------
  // Lines (.l) live in .chunk elements, oldest first.

  function lineCount(logView) { return linesOf(logView).getElementsByClassName("l").length; }

  function dropOldest(logView) {
    const box = linesOf(logView);
    let extra = lineCount(logView) - maxLines(logView);
    if (extra <= 0) return;
    logView.dataset.dropped = String((parseInt(logView.dataset.dropped, 10) || 0) + extra);
    while (extra > 0 && box.firstElementChild) {
      const chunk = box.firstElementChild;
      const lines = chunk.getElementsByClassName("l");
      if (lines.length <= extra) {
        extra -= lines.length;
        chunk.remove();
      } else {
        const range = document.createRange();
        range.setStart(chunk, 0);
        range.setEndAfter(lines[extra - 1]);
        range.deleteContents();
        extra = 0;
      }
    }
  }

  // -- filter and count ----------------------------------------------------------------

  function shows(line, needle) {
    return !needle || line.classList.contains("notice") || line.textContent.toLowerCase().includes(needle);
  }

  function filterLines(lines) {
    const needle = filterText();
    for (const line of lines) {
      const hide = !shows(line, needle);
      if (line.hidden !== hide) line.hidden = hide;
    }
  }

  function updateCount(logView) {
    const counter = document.getElementById("log-count");
    if (!counter) return;
    const box = linesOf(logView);
    const total = lineCount(logView) - box.getElementsByClassName("notice").length;
    let text = total.toLocaleString() + (total === 1 ? " line" : " lines");
    if (filterText()) {
      const shown = box.querySelectorAll(".l:not(.notice):not([hidden])").length;
      text = `${shown.toLocaleString()} of ${text} match`;
    }
    if (logView.dataset.dropped) {
      const kept = maxLines(logView).toLocaleString();
      text += ` · older lines dropped: the page keeps the last ${kept} (download for all)`;
    }
    counter.textContent = text;
  }

  let filterTimer = null;
  document.addEventListener("input", (event) => {
    if (event.target.id !== "log-filter") return;
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      const logView = view();
      if (!logView) return;
      filterLines(linesOf(logView).getElementsByClassName("l"));
      updateCount(logView);
    }, FILTER_DELAY_MS);
  });

  // -- followed lines --------------------------------------------------------------------
  // Messages are queued and appended once per animation frame: however fast lines come, the
  // page parses, trims and lays out at most once a frame, and never parses lines that the cap
  // would drop at once (each line of a message's HTML is one log line).

  const pending = [];
  let pendingLines = 0;
  let flushing = false;

  document.addEventListener("htmx:sseBeforeMessage", (event) => {
    const target = event.target;
    if (!target.classList?.contains("log-lines")) return;
    event.preventDefault(); // appended here instead of an htmx swap
    const data = event.detail.data;
    let count = 1;
    for (let at = data.indexOf("\n"); at !== -1; at = data.indexOf("\n", at + 1)) count++;
    pending.push({ data, count, box: target });
    pendingLines += count;
    const logView = target.closest(".log-view");
    while (pending.length > 1 && pendingLines - pending[0].count >= maxLines(logView)) {
      const skipped = pending.shift();
      pendingLines -= skipped.count;
      logView.dataset.dropped = String((parseInt(logView.dataset.dropped, 10) || 0) + skipped.count);
    }
    if (!flushing) {
      flushing = true;
      requestAnimationFrame(flush);
    }
  });

  function flush() {
    flushing = false;
    let taken = 0;
    let cut = 0;
    while (cut < pending.length && (cut === 0 || taken + pending[cut].count <= FRAME_LINES)) {
      taken += pending[cut].count;
      cut++;
    }
    const batch = pending.splice(0, cut);
    pendingLines -= taken;
    if (pending.length) {
      flushing = true;
      requestAnimationFrame(flush);
    }
    if (!batch.length) return;
    const box = batch[0].box;
    if (!box.isConnected) return; // the panel was replaced meanwhile
    const logView = box.closest(".log-view");
    const stick = atBottom(logView);
    const lines = batch.map((m) => m.data).join("\n").split("\n");
    const added = document.createDocumentFragment();
    for (let first = 0; first < lines.length; first += CHUNK_LINES) {
      const chunk = document.createElement("div");
      // Only full chunks may be skipped off-screen: their placeholder height is right for 100 lines.
      chunk.className = lines.length - first >= CHUNK_LINES ? "chunk" : "chunk partial";
      chunk.innerHTML = lines.slice(first, first + CHUNK_LINES).join("");
      if (filterText()) filterLines(chunk.getElementsByClassName("l"));
      added.appendChild(chunk);
    }
    box.appendChild(added);
    dropOldest(logView);
    if (stick) logView.scrollTop = logView.scrollHeight;
    scheduleCount(logView);
  }

  // Counting thousands of lines after every frame would cost more than the lines themselves.
  let countTimer = null;
  function scheduleCount(logView) {
    if (countTimer) return;
    countTimer = setTimeout(() => { countTimer = null; updateCount(logView); }, 250);
  }

  // -- long lines and timestamps -----------------------------------------------------------

  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("button.more");
    if (!button) return;
    const rest = button.previousElementSibling;
    if (rest && rest.classList.contains("rest")) rest.hidden = false;
    button.remove();
  });

  document.addEventListener("change", (event) => {
    if (event.target.id !== "log-timestamps") return;
    const on = event.target.checked;
    const logView = view();
    if (logView) logView.classList.toggle("show-ts", on);
    const download = document.getElementById("log-download");
    if (download) {
      const url = new URL(download.href, location.href);
      if (on) url.searchParams.set("timestamps", "1"); else url.searchParams.delete("timestamps");
      download.href = url.pathname + url.search;
    }
    const form = document.querySelector("form.log-controls");
    if (form) { // the next panel the form fetches keeps the choice
      let hidden = form.querySelector("input[name=timestamps]");
      if (on && !hidden) {
        hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "timestamps"; hidden.value = "1";
        form.appendChild(hidden);
      } else if (!on && hidden) {
        hidden.remove();
      }
    }
  });

  // -- a new log panel, a new status -------------------------------------------------------

  function panelReady() {
    const logView = view();
    if (!logView) return;
    logView.scrollTop = logView.scrollHeight;
    filterLines(linesOf(logView).getElementsByClassName("l"));
    if (!logView.hasAttribute("sse-connect")) updateCount(logView);
  }

  function refreshPicker() {
    const picker = document.getElementById("log-container");
    if (!picker) return;
    for (const option of picker.options) {
      const pod = CSS.escape(picker.dataset.pod);
      const row = document.querySelector(
        `#status [data-container-row][data-pod="${pod}"][data-container="${CSS.escape(option.value)}"]`);
      if (row && row.dataset.label && option.textContent !== row.dataset.label) option.textContent = row.dataset.label;
    }
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "logs") panelReady();
  });

  document.addEventListener("htmx:sseMessage", (event) => {
    if (event.target.id === "status-body") refreshPicker();
  });

  // -- is the page live? --------------------------------------------------------------------

  function setLive(state, text) {
    const badge = document.getElementById("live-state");
    if (!badge || badge.dataset.state === state) return;
    badge.dataset.state = state;
    badge.textContent = text;
  }
  // The badge says what the page can promise: a live stream from Pod Studio, and whether the cluster
  // behind it answers (the status says when it does not), so the two never contradict each other.
  function streamOpen() {
    if (document.getElementById("cluster-problem")) {
      setLive("degraded", "Live, but the cluster does not answer");
    } else {
      setLive("live", "Live");
    }
  }
  document.addEventListener("htmx:sseOpen", (event) => {
    if (event.target.id === "status") streamOpen();
  });
  document.addEventListener("htmx:sseMessage", (event) => {
    const badge = document.getElementById("live-state");
    if (event.target.id === "status-body" && badge && ["live", "degraded"].includes(badge.dataset.state)) {
      streamOpen();
    }
  });
  document.addEventListener("htmx:sseError", (event) => {
    if (event.target.id === "status") setLive("lost", "Reconnecting to Pod Studio…");
  });
  document.addEventListener("htmx:sseClose", (event) => {
    if (event.target.id !== "status") return;
    setLive("closed", "Not live: reload the page");
    // Nothing retries once the stream is closed: do not say that something does.
    document.querySelectorAll("#cluster-problem .retrying").forEach((note) => {
      note.textContent = "Reload the page to try again.";
    });
  });

  document.addEventListener("DOMContentLoaded", panelReady);
})();
