/*
 * Resumable video uploads with a real progress bar (the browser's own upload progress).
 *
 * The file goes in chunks (see rapport/videos/views.py for the protocol). A dropped connection
 * retries with growing pauses and resumes from the byte the server has; a reload of the page
 * resumes too, once the same file is chosen again (its upload address is remembered in
 * localStorage, keyed by the file's name, size and modification time — never its content).
 * Videos that are still processing are polled until they are ready or failed.
 * Loaded with the page's CSP nonce; no inline script, no eval.
 */
(function () {
  "use strict";

  var RETRY_PAUSES_MS = [1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000];
  var POLL_MS = 4000;

  function resumeKey(prompt, file) {
    return "rapport-upload:" + prompt + ":" + file.name + ":" + file.size + ":" + file.lastModified;
  }

  function remember(key, value) {
    try {
      if (value) {
        window.localStorage.setItem(key, value);
      } else {
        window.localStorage.removeItem(key);
      }
    } catch (error) {
      // Private browsing may refuse storage: uploads still work, they just cannot resume
      // after a reload.
    }
  }

  function recall(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (error) {
      return null;
    }
  }

  function pause(ms) {
    return new Promise(function (resolve) {
      window.setTimeout(resolve, ms);
    });
  }

  // One request with XMLHttpRequest (fetch has no upload progress); resolves with
  // {status, body} for any HTTP answer, rejects only on a network failure or abort.
  function send(method, url, token, body, headers, onProgress, track) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      Object.keys(headers || {}).forEach(function (name) {
        xhr.setRequestHeader(name, headers[name]);
      });
      if (onProgress) {
        xhr.upload.onprogress = function (event) {
          onProgress(event.loaded);
        };
      }
      xhr.onload = function () {
        var parsed = null;
        try {
          parsed = JSON.parse(xhr.responseText || "null");
        } catch (error) {
          parsed = null;
        }
        resolve({ status: xhr.status, body: parsed });
      };
      xhr.onerror = function () {
        reject(new Error("network"));
      };
      xhr.onabort = function () {
        reject(new Error("aborted"));
      };
      if (track) {
        track(xhr);
      }
      xhr.send(body === undefined ? null : body);
    });
  }

  function setUpForm(form) {
    var input = form.querySelector("input[type=file]");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var progressBox = form.querySelector(".video-upload__progress");
    var progress = form.querySelector("progress");
    var status = form.querySelector(".video-upload__status");
    var cancel = form.querySelector("[data-cancel]");
    // Shown and hidden through its wrapper: the .button style sets display, which would
    // override the hidden attribute on the button itself.
    var cancelBox = form.querySelector(".video-upload__cancel");
    var submit = form.querySelector("button[type=submit]");
    var prompt = form.dataset.prompt;
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var current = null; // {xhr, uploadUrl, key, cancelled}

    form.hidden = false;

    function say(message, isError) {
      status.textContent = message;
      status.classList.toggle("field-error", Boolean(isError));
    }

    function showProgress(done, total) {
      progressBox.hidden = false;
      var percent = total ? Math.floor((done / total) * 100) : 0;
      progress.value = percent;
      progress.textContent = percent + "%";
    }

    function finish() {
      submit.disabled = false;
      input.disabled = false;
      cancelBox.hidden = true;
      current = null;
    }

    function problem(answer, fallback) {
      return (answer.body && (answer.body.detail || answer.body.title)) || fallback;
    }

    async function startOrResume(file, key) {
      var known = recall(key);
      if (known) {
        var answer = await send("GET", known, token);
        if (answer.status === 200 && answer.body) {
          return answer.body;
        }
        remember(key, null);
      }
      var started = await send(
        "POST",
        form.dataset.startUrl,
        token,
        JSON.stringify({ prompt: prompt, filename: file.name, size: file.size }),
        { "Content-Type": "application/json" }
      );
      // 201: a new upload; 200: the server had an unfinished upload of this same file.
      if (started.status !== 201 && started.status !== 200) {
        throw new Error(problem(started, "The upload could not start."));
      }
      remember(key, started.body.upload_url);
      return started.body;
    }

    async function sendChunks(file, upload) {
      var offset = upload.offset;
      var failures = 0;
      while (offset < file.size) {
        if (current.cancelled) {
          throw new Error("aborted");
        }
        var end = Math.min(offset + upload.chunk_bytes, file.size);
        var base = offset;
        try {
          var answer = await send(
            "PUT",
            upload.upload_url,
            token,
            file.slice(offset, end),
            { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
            function (loaded) {
              showProgress(base + loaded, file.size);
            },
            function (xhr) {
              current.xhr = xhr;
            }
          );
          if (answer.status === 200 || (answer.status === 409 && answer.body)) {
            // 409: the server has a different resume point (a retried chunk that did arrive).
            offset = answer.body.offset;
            failures = 0;
            if (answer.status === 409) {
              // Another request may still be writing (a tab, or our own timed-out retry).
              await pause(1000);
            }
            showProgress(offset, file.size);
            continue;
          }
          if (answer.status === 413 || answer.status === 422 || answer.status === 404) {
            throw new Error(problem(answer, "The upload was refused."));
          }
          throw new Error("retry");
        } catch (error) {
          if (error.message !== "retry" && error.message !== "network") {
            throw error;
          }
          if (failures >= RETRY_PAUSES_MS.length) {
            throw new Error(
              "The connection keeps dropping. Choose the same file again later to continue from " +
                Math.floor((offset / file.size) * 100) + "%."
            );
          }
          say("Connection lost; trying again in " + RETRY_PAUSES_MS[failures] / 1000 + " s…");
          await pause(RETRY_PAUSES_MS[failures]);
          failures += 1;
          var where = await send("GET", upload.upload_url, token).catch(function () {
            return null;
          });
          if (where && where.status === 200 && where.body) {
            offset = where.body.offset;
          }
          say("Uploading…");
        }
      }
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var file = input.files && input.files[0];
      if (!file) {
        say("Choose a video file first.", true);
        input.focus();
        return;
      }
      if (file.size === 0) {
        say("That file is empty: there is no video in it.", true);
        return;
      }
      if (file.size > maxBytes) {
        say("That file is larger than " + Math.floor(maxBytes / 1048576) + " MB.", true);
        return;
      }
      var key = resumeKey(prompt, file);
      current = { xhr: null, uploadUrl: null, key: key, cancelled: false };
      submit.disabled = true;
      input.disabled = true;
      cancelBox.hidden = false;
      say("Uploading…");
      try {
        var upload = await startOrResume(file, key);
        current.uploadUrl = upload.upload_url;
        showProgress(upload.offset, file.size);
        await sendChunks(file, upload);
        // Every byte is there: from now on the server decides, and there is nothing to cancel.
        cancelBox.hidden = true;
        say("Checking the video…");
        var done = await send("POST", upload.complete_url, token);
        remember(key, null);
        if (done.status !== 201) {
          throw new Error(problem(done, "The video was not accepted."));
        }
        say("Uploaded. We are preparing it for playback; this page will update.");
        window.setTimeout(function () {
          window.location.reload();
        }, 1500);
      } catch (error) {
        if (error.message === "aborted") {
          say("Upload cancelled.");
        } else {
          say(error.message === "network" ? "The connection failed. Try again." : error.message, true);
        }
        progressBox.hidden = true;
        finish();
      }
    });

    cancel.addEventListener("click", function () {
      if (!current) {
        return;
      }
      current.cancelled = true;
      if (current.xhr) {
        current.xhr.abort();
      }
      if (current.uploadUrl) {
        send("DELETE", current.uploadUrl, token).catch(function () {});
      }
      remember(current.key, null);
    });
  }

  function pollStatus(element) {
    var url = element.dataset.statusUrl;
    window.setTimeout(async function check() {
      try {
        var response = await fetch(url, { headers: { Accept: "application/json" } });
        if (response.ok) {
          var video = await response.json();
          if (video.state === "ready" || video.state === "failed") {
            window.location.reload();
            return;
          }
        }
      } catch (error) {
        // Try again on the next round.
      }
      window.setTimeout(check, POLL_MS);
    }, POLL_MS);
  }

  document.querySelectorAll("form.video-upload").forEach(setUpForm);
  document.querySelectorAll("[data-status-url]").forEach(pollStatus);
})();
