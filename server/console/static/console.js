// scimlab practice console: dialogs, copy buttons, typed confirmations, shown-once secrets.
"use strict";
(function () {
  const FOCUSABLE =
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const live = document.getElementById("live");

  function announce(text) {
    if (live) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = text; }, 50);
    }
  }

  // A page rendered by a form post (a secret shown once) takes its canonical address, so a
  // reload asks for the page again (secret masked) instead of repeating the post.
  const canonical = document.body.dataset.canonical;
  if (canonical && window.location.pathname !== canonical) {
    window.history.replaceState(null, "", canonical);
  }

  // A form the server sent back: focus moves to the first field it marked, whose message is
  // beside it (aria-describedby).
  const invalid = document.querySelector('main form [aria-invalid="true"]');
  if (invalid && !invalid.closest("dialog")) { invalid.focus(); }

  // Times in the reader's time zone; the UTC time stays in the title (shown on hover).
  const localFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  document.querySelectorAll("time.moment[datetime]").forEach(function (element) {
    const moment = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) { element.textContent = localFormat.format(moment); }
  });
  // Date filters mean days in that same time zone.
  const zoneName = localFormat.resolvedOptions().timeZone;
  document.querySelectorAll("input[data-time-zone]").forEach(function (element) {
    element.value = zoneName || "";
  });

  // Dialogs: modal, focus kept inside, Escape and Cancel close, focus returns to the opener.
  document.querySelectorAll("[data-dialog]").forEach(function (opener) {
    opener.addEventListener("click", function () {
      const dialog = document.getElementById(opener.dataset.dialog);
      dialog.opener = opener;
      dialog.showModal();
      const first = dialog.querySelector('input:not([type="hidden"])') || dialog.querySelector(FOCUSABLE);
      if (first) { first.focus(); }
    });
  });
  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        dialog.close();
        return;
      }
      if (event.key !== "Tab") { return; }
      const items = Array.from(dialog.querySelectorAll(FOCUSABLE));
      if (items.length === 0) { return; }
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    dialog.addEventListener("close", function () {
      dialog.querySelectorAll("[data-confirm-word]").forEach(function (input) {
        input.value = "";
        input.dispatchEvent(new Event("input"));
      });
      dialog.querySelectorAll(".field-error").forEach(function (error) { error.textContent = ""; });
      if (dialog.opener) { dialog.opener.focus(); }
    });
    dialog.querySelectorAll("[data-close]").forEach(function (button) {
      button.addEventListener("click", function () { dialog.close(); });
    });
  });

  // Typed confirmations: the action goes ahead only once the exact word is typed; anything
  // else (a typo, the word in small letters) is explained beside the box and marked invalid.
  document.querySelectorAll("[data-confirm-word]").forEach(function (input) {
    const word = input.dataset.confirmWord;
    const message = document.getElementById(input.id + "-error");
    const show = function (text) {
      message.textContent = text;
      if (text) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    };
    const explain = function () {
      if (input.value === word) { return ""; }
      if (input.value.trim().toUpperCase() === word) { return "Type " + word + " in capital letters."; }
      return "Type " + word + " in capital letters to confirm.";
    };
    input.addEventListener("input", function () {
      // While typing, speak up only about a word that is right but for its case.
      const text = explain();
      show(input.value && input.value.toUpperCase() === word ? text : "");
    });
    input.form.addEventListener("submit", function (event) {
      const text = explain();
      if (text) {
        event.preventDefault();
        show(text);
        input.focus();
      }
    });
  });

  // Copy buttons copy the value of the field they name.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", async function () {
      const source = document.getElementById(button.dataset.copy);
      const text = "value" in source ? source.value : source.textContent;
      let copied = false;
      try {
        await navigator.clipboard.writeText(text);
        copied = true;
      } catch (error) {
        if (source.select) { source.select(); }
        try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
      }
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      button.textContent = copied ? "Copied" : "Copy failed";
      announce(copied ? (button.getAttribute("aria-label") || "Value") + ": copied" : "Copy failed");
      window.setTimeout(function () { button.textContent = label; }, 2000);
    });
  });

  // A secret shown once is masked for good as soon as the page is left.
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("[data-secret]").forEach(function (field) {
      field.value = field.dataset.mask;
    });
  });

  // A value shown once is brought into view and focused; leaving the page before Done asks
  // first, since the value cannot be shown again.
  const oneTime = document.querySelector("[data-one-time]");
  if (oneTime) {
    const warn = function (event) { event.preventDefault(); event.returnValue = ""; };
    window.addEventListener("beforeunload", warn);
    document.querySelectorAll("[data-done]").forEach(function (done) {
      done.addEventListener("click", function () { window.removeEventListener("beforeunload", warn); });
    });
    oneTime.scrollIntoView({ block: "start" });
    oneTime.focus({ preventScroll: true });
  }
  document.querySelectorAll('#one-time-notice a[href^="#"]').forEach(function (link) {
    link.addEventListener("click", function (event) {
      const target = document.querySelector(link.getAttribute("href"));
      if (target) {
        event.preventDefault();
        target.scrollIntoView({ block: "start" });
        target.focus({ preventScroll: true });
      }
    });
  });

  // Add Provider: an existing user's name fields come from the account (shown disabled).
  const existing = document.getElementById("existing");
  const chooser = document.getElementById("staff_id");
  if (existing && chooser) {
    const fields = document.querySelectorAll("[data-person-field]");
    const sync = function () {
      const useExisting = existing.checked;
      chooser.disabled = !useExisting;
      document.getElementById("existing-user").hidden = !useExisting;
      const option = chooser.selectedOptions[0];
      fields.forEach(function (field) {
        field.disabled = useExisting;
        if (useExisting) {
          field.value = option ? option.dataset[field.dataset.personField] || "" : "";
        }
      });
    };
    existing.addEventListener("change", function () {
      if (!existing.checked) {
        fields.forEach(function (field) { field.value = ""; });
      }
      sync();
    });
    chooser.addEventListener("change", sync);
    sync();
  }
})();
