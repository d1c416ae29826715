/*
 * A stand-in for the parts of Kommo's web interface a widget uses, for the
 * browser tests: a small AMD loader (define/require), the APP/AMOCRM globals
 * (notifications, the phone button, constants, router), Kommo's modal
 * (lib/components/base/modal), the widget's base methods (system, params,
 * i18n, render with twig, add_action, list_selected, $authorizedAjax…), the
 * settings modal, a card with phone numbers and a list with a selection.
 *
 * Configuration comes from the page's query: user, theme (light|dark), lang,
 * status (install|installed), base (the widget's folder).
 */
(function () {
  'use strict';

  var $ = window.jQuery;
  var Twig = window.Twig;
  var q = new URLSearchParams(window.location.search);
  var cfg = {
    user: parseInt(q.get('user') || '0', 10),
    theme: q.get('theme') || 'light',
    lang: q.get('lang') || 'en',
    status: q.get('status') || 'installed',
    base: (q.get('base') || '/widget').replace(/\/+$/, ''),
    code: 'callbridge'
  };
  var H = window.Harness = {
    cfg: cfg,
    log: { add_call: [], messages: [], errors: [], navigate: [], ajax: [] },
    saves: [],
    lastSave: null,
    actions: {},
    selection: { selected: [], summary: { items: 0 } },
    ready: false,
    failure: null
  };

  window.addEventListener('error', function (e) {
    H.failure = String(e.message || e);
  });

  // ---- AMD loader --------------------------------------------------------

  var modules = {};
  var pending = {};

  function builtin(id, value) {
    modules[id] = Promise.resolve(value);
  }

  function resolveId(id, parentURL) {
    if (/^(\.\.?\/|\/|https?:)/.test(id)) {
      var u = new URL(id, parentURL || (window.location.origin + cfg.base + '/'));
      return u.href;
    }
    return id;
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = url;
      s.async = true;
      s.setAttribute('data-module', url);
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error('cannot load ' + url)); };
      document.head.appendChild(s);
    });
  }

  function requireOne(id, parentURL) {
    var key = resolveId(id, parentURL);
    if (modules[key]) {
      return modules[key];
    }
    if (!/^https?:/.test(key)) {
      return Promise.reject(new Error('unknown module ' + id));
    }
    modules[key] = loadScript(key).then(function () {
      var def = pending[key];
      delete pending[key];
      if (!def) {
        throw new Error(key + ' did not call define');
      }
      return Promise.all(def.deps.map(function (d) { return requireOne(d, key); })).then(function (values) {
        return typeof def.factory === 'function' ? def.factory.apply(null, values) : def.factory;
      });
    });
    return modules[key];
  }

  window.define = function (a, b, c) {
    var deps = [];
    var factory;
    if (typeof a === 'string') {
      deps = Array.isArray(b) ? b : [];
      factory = Array.isArray(b) ? c : b;
      var named = Promise.all(deps.map(function (d) { return requireOne(d); })).then(function (vals) {
        return typeof factory === 'function' ? factory.apply(null, vals) : factory;
      });
      modules[a] = named;
      return;
    }
    if (Array.isArray(a)) {
      deps = a;
      factory = b;
    } else {
      factory = a;
    }
    var script = document.currentScript;
    var key = script && script.getAttribute('data-module');
    if (key) {
      pending[key] = { deps: deps, factory: factory };
    }
  };
  window.define.amd = {};
  window.require = function (deps, cb, errback) {
    Promise.all(deps.map(function (d) { return requireOne(d); })).then(function (vals) {
      if (cb) {
        cb.apply(null, vals);
      }
    }, function (err) {
      H.failure = String(err);
      if (errback) {
        errback(err);
      }
    });
  };

  // ---- Kommo's modal -----------------------------------------------------

  function Modal(opts) {
    var self = this;
    var $overlay = $('<div class="harness-modal"><div class="harness-modal__body modal-body">' +
      '<span class="modal-body__close" title="close">×</span><div class="modal-body__inner"></div></div></div>');
    $overlay.addClass(opts.class_name || '').appendTo(document.body);
    this.$el = $overlay;
    this.destroyed = false;
    this.destroy = function () {
      if (self.destroyed) {
        return;
      }
      self.destroyed = true;
      $overlay.remove();
      if (opts.destroy) {
        opts.destroy();
      }
    };
    $overlay.find('.modal-body__close').on('click', function () { self.destroy(); });
    var $inner = $overlay.find('.modal-body__inner');
    $inner.on('modal:centrify', function () { $overlay.addClass('harness-modal--ready'); });
    opts.init($inner);
  }

  builtin('jquery', $);
  builtin('twigjs', Twig);
  builtin('lib/components/base/modal', Modal);

  // ---- APP ---------------------------------------------------------------

  var managers = {};
  [[501, 'Ada Admin', true], [502, 'Bob Sales', false]].forEach(function (m) {
    managers[m[0]] = { id: m[0], title: m[1], login: m[1].split(' ')[0].toLowerCase() + '@example.com', active: true, is_admin: m[2] ? 'Y' : 'N' };
  });

  function notice(kind, title, html, extra) {
    var $stack = $('#harness-notices');
    var $n = $('<div class="harness-notice harness-notice--' + kind + '"></div>');
    $n.append($('<div class="harness-notice__title"></div>').text(title));
    $n.append($('<div class="harness-notice__text"></div>').html(html));
    if (extra) {
      $n.append(extra);
    }
    $n.prependTo($stack);
    return $n;
  }

  window.APP = window.AMOCRM = {
    lang_id: cfg.lang,
    constant: function (name) {
      switch (name) {
        case 'user':
          return { id: cfg.user, name: (managers[cfg.user] || {}).title || 'User', theme: cfg.theme === 'dark' ? 'dark' : 'light' };
        case 'account':
          return { id: 1, subdomain: 'demo' };
        case 'managers':
          return managers;
      }
      return null;
    },
    notifications: {
      add_call: function (n) {
        n.received_at = Date.now();
        H.log.add_call.push(n);
        var meta = $('<div class="harness-notice__meta"></div>').text((n.from || '') + (n.link ? '  ·  ' + n.link : '') + (n.click_link ? '  ·  ' + n.click_link : ''));
        notice('call', 'Kommo · phone call', n.text, meta);
      },
      show_message: function (m) {
        H.log.messages.push(m);
        notice('msg', m.header || '', $('<div>').text(m.text || '').html());
      },
      show_message_error: function (m) {
        H.log.errors.push(m);
        notice('err', m.header || '', $('<div>').text(m.text || '').html());
      },
      add_error: function (m) {
        H.log.errors.push(m);
        notice('err', m.header || '', $('<div>').text(m.text || '').html());
      },
      show_notification: function (m) {
        H.log.messages.push(m);
        notice('msg', (m.text && m.text.header) || '', $('<div>').text((m.text && m.text.text) || '').html());
      }
    },
    widgets: {
      system: {},
      notificationsPhone: function (o) {
        H.phoneButton = o;
        $('#harness-phone').show().off('click').on('click', function () { o.click(); });
      },
      destroyNotificationsPhone: function () {
        H.phoneButton = null;
        $('#harness-phone').hide();
      }
    },
    data: { current_card: null },
    router: {
      navigate: function (url) {
        H.log.navigate.push(url);
      }
    },
    getBaseEntity: function () {
      return APP.data.current_card ? APP.data.current_card.element_type : '';
    },
    isCard: function () {
      return !!APP.data.current_card;
    },
    getWidgetsArea: function () {
      return H.area || '';
    }
  };

  // ---- the widget's base methods ------------------------------------------

  var templates = {};

  function WidgetBase(manifest) {
    this.params = {
      widget_code: cfg.code,
      path: cfg.base,
      images_path: cfg.base + '/images',
      status: cfg.status,
      active: 'Y',
      version: manifest.widget.version,
      setup: ''
    };
    this.langs = H.langs;
  }

  WidgetBase.prototype = {
    system: function () {
      return {
        area: H.area || 'dashboard', amouser_id: String(cfg.user), amouser: (managers[cfg.user] || {}).login || '',
        subdomain: 'demo', domain: window.location.host, server: window.location.origin, displayed_count: 0
      };
    },
    get_settings: function () {
      return this.params;
    },
    set_settings: function (o) {
      $.extend(this.params, o);
    },
    i18n: function (key) {
      return H.langs[key];
    },
    set_lang: function () {},
    get_version: function () {
      return this.params.version;
    },
    get_install_status: function () {
      return this.params.status;
    },
    set_status: function (s) {
      this.params.status = s;
    },
    widgetsOverlay: function () {},
    add_source: function () {},
    crm_post: function () {},
    list_selected: function () {
      return H.selection;
    },
    add_action: function (type, fn) {
      H.actions[type] = fn;
      $(document).trigger('harness:actions');
    },
    render_template: function (o) {
      $('#harness-panel').html(o.body || '');
    },
    render: function (opts, data) {
      if (opts && opts.href) {
        var url = (opts.base_path || cfg.base) + opts.href;
        var got = templates[url] || (templates[url] = $.ajax({ url: url, dataType: 'text' }).then(function (text) {
          return Twig.twig({ data: text, rethrow: true });
        }));
        got.then(function (tpl) {
          if (opts.load) {
            opts.load(tpl);
          }
        }, function (err, status, thrown) {
          H.failure = 'cannot load template ' + url + ': ' + String((err && (err.message || err.status)) || status || '') + ' ' + String(thrown || '');
        });
        return '';
      }
      if (opts && opts.data) {
        return Twig.twig({ data: opts.data, rethrow: true }).render(data || {});
      }
      return '';
    },
    $authorizedAjax: function (opts) {
      H.log.ajax.push((opts.type || 'GET') + ' ' + opts.url);
      return $.ajax({ url: '/harness/token?user=' + cfg.user, dataType: 'json' }).then(function (r) {
        var o = $.extend({}, opts);
        o.headers = $.extend({}, opts.headers || {}, { 'X-Auth-Token': r.token });
        return $.ajax(o);
      });
    }
  };

  // ---- Kommo screens ---------------------------------------------------------

  H.setTheme = function (theme) {
    cfg.theme = theme;
    $(document.body).toggleClass('harness-dark', theme === 'dark');
  };

  // openSettings shows Kommo's widget settings modal (install or settings).
  H.openSettings = function () {
    var t = H.langs.widget || {};
    var install = H.widget.params.status === 'install';
    var $m = $('<div class="harness-modal harness-settings"><div class="harness-modal__body">' +
      '<div class="harness-settings__head"><img alt="" src="' + cfg.base + '/images/logo_main.png"><div><h2></h2><p class="harness-muted"></p></div></div>' +
      '<div class="harness-settings__desc"></div>' +
      '<div class="widget_settings_block"><div class="widget_settings_block__item_field"><input type="hidden" name="setup"></div></div>' +
      '<div class="harness-settings__foot"><button type="button" class="harness-button harness-button--primary js-widget-save"></button>' +
      '<button type="button" class="harness-button js-harness-cancel">Cancel</button></div></div></div>').appendTo(document.body);
    $m.find('h2').text(t.name || '');
    $m.find('.harness-settings__head p').text(t.short_description || '');
    $m.find('.harness-settings__desc').text(t.description || '');
    $m.find('input[name="setup"]').val(H.widget.params.setup || '');
    $m.find('.js-widget-save').text(install ? 'Install' : 'Save').on('click', function () {
      var fields = { setup: $m.find('input[name="setup"]').val() };
      var r;
      try {
        r = H.callbacks.onSave({ active: 'Y', fields: fields });
      } catch (e) {
        H.failure = String(e);
        r = false;
      }
      Promise.resolve(r).then(function (ok) {
        H.lastSave = ok === true;
        H.saves.push(H.lastSave);
        if (ok === true) {
          H.widget.params.setup = fields.setup;
          if (H.widget.params.status === 'install') {
            H.widget.params.status = 'installed';
            H.callbacks.init();
          }
          $m.remove();
        }
      }, function () {
        H.lastSave = false;
        H.saves.push(false);
      });
    });
    $m.find('.js-harness-cancel').on('click', function () { $m.remove(); });
    H.callbacks.settings($m);
  };

  H.openAdvanced = function () {
    H.area = 'advanced-settings:' + cfg.code;
    $('#harness-content').html('<div id="work-area-' + cfg.code + '"></div>');
    H.callbacks.advancedSettings();
  };

  H.openCard = function (card) {
    APP.data.current_card = { id: card.id, element_type: card.type, name: card.name };
    H.area = 'ccard';
    var $c = $('<div class="harness-card"><div class="harness-card__head"></div><div class="harness-card__fields"></div></div>');
    $c.find('.harness-card__head').text(card.name);
    card.phones.forEach(function (p) {
      var $row = $('<div class="harness-field"><span class="harness-field__label">Phone</span><span class="harness-field__value"></span></div>');
      $row.find('.harness-field__value').text(p);
      var $b = $('<button type="button" class="harness-button harness-phone-action"></button>')
        .attr('data-phone', p).text((H.langs.widget || {}).call_action || 'Call');
      $b.on('click', function () {
        if (H.actions.phone) {
          H.actions.phone({ value: p });
        }
      });
      $row.append($b);
      $c.find('.harness-card__fields').append($row);
    });
    $('#harness-content').empty().append($c);
  };

  H.openList = function (type, items) {
    APP.data.current_card = null;
    H.area = type === 'leads' ? 'llist' : 'clist';
    H.selection = { selected: items, summary: { items: items.length } };
    var $l = $('<div class="harness-list"><div class="harness-list__bar"><span></span>' +
      '<button type="button" class="harness-button harness-list__widget">callbridge</button></div><table class="harness-table"></table></div>');
    $l.find('.harness-list__bar span').text(items.length + ' selected');
    items.forEach(function (it) {
      var $tr = $('<tr><td><input type="checkbox" checked></td><td class="n"></td><td class="p"></td></tr>');
      $tr.find('.n').text(it.name || ('#' + it.id));
      $tr.find('.p').text((it.phones || []).join(', '));
      $l.find('table').append($tr);
    });
    $l.find('.harness-list__widget').on('click', function () {
      H.callbacks[type].selected();
    });
    $('#harness-content').empty().append($l);
  };

  // ---- boot ---------------------------------------------------------------

  H.boot = function () {
    H.setTheme(cfg.theme);
    $('<link rel="stylesheet">').attr('href', cfg.base + '/style.css').appendTo(document.head);
    $.when(
      $.ajax({ url: cfg.base + '/i18n/' + cfg.lang + '.json', dataType: 'json' }),
      $.ajax({ url: cfg.base + '/manifest.json', dataType: 'json' })
    ).then(function (langRes, manRes) {
      H.langs = langRes[0];
      H.manifest = manRes[0];
      window.require([cfg.base + '/script.js'], function (Widget) {
        var inst = Object.create(new WidgetBase(H.manifest));
        Widget.call(inst);
        H.widget = inst;
        H.callbacks = inst.callbacks;
        var ok = H.callbacks.render() === true;
        if (ok && inst.params.status !== 'install') {
          ok = H.callbacks.init() === true && H.callbacks.bind_actions() === true;
        } else if (ok) {
          ok = H.callbacks.bind_actions() === true;
        }
        if (!ok) {
          H.failure = 'render/init/bind_actions did not return true';
        }
        H.ready = true;
      });
    }, function () {
      H.failure = 'cannot load the widget files';
    });
  };
}());
