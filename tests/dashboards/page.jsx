// The test page: one Dashboard Studio definition rendered by Splunk's dashboard framework, as
// Splunk Enterprise's view-only page does (EnterpriseViewOnlyPreset). render.js calls
// window.renderDashboard(definition) and reads the framework's validation errors from
// window.dashboardValidationErrors.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardCore } from '@splunk/dashboard-core';
import { DashboardContextProvider } from '@splunk/dashboard-context';
import EnterpriseViewOnlyPreset from '@splunk/dashboard-presets/EnterpriseViewOnlyPreset';

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
