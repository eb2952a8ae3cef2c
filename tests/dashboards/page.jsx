// The test page: one Dashboard Studio definition rendered by Splunk's dashboard framework, as
// Splunk Enterprise's view-only page does (EnterpriseViewOnlyPreset). render.js calls
// window.renderDashboard(definition) and reads the framework's validation errors from
// window.dashboardValidationErrors; window.presetSchemaErrors(definition) checks a definition
// against the schema the framework builds from the preset (every visualization's, input's and data
// source's own option schema), which the browser-free defaultSchema check cannot load.
import Ajv from 'ajv';
import React from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardCore } from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterpriseViewOnlyPreset from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';
import { createSchemaBasedOnPresets } from '@splunk/dashboard-definition';
import { migrateToTabsLayout } from '@splunk/dashboard-utils';

window.dashboardValidationErrors = [];

window.renderDashboard = (definition) => {
    const onValidationError = (error) => {
        window.dashboardValidationErrors.push(typeof error === 'string' ? error : JSON.stringify(error));
    };
    createRoot(document.getElementById('root')).render(
        <DashboardContextProvider preset={EnterpriseViewOnlyPreset} initialDefinition={definition}>
            <DashboardCore width="100%" height="auto" onValidationError={onValidationError} />
        </DashboardContextProvider>
    );
};

window.presetSchemaErrors = (definition) => {
    const validate = new Ajv({ allErrors: true, strict: false })
        .compile(createSchemaBasedOnPresets(EnterpriseViewOnlyPreset));
    const migration = migrateToTabsLayout({ definition });
    if (!migration.success) return ['migrateToTabsLayout could not upgrade the layout'];
    if (validate(migration.definition)) return [];
    return validate.errors.map(({ instancePath, message }) => `${instancePath || '/'}: ${message}`);
};
